package main

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/present"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newCertCmd) }

func newCertCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "JPKI certificates (電子証明書)"}
	var asPEM, asJSON, prove, proveSign, matchText bool
	var out, crlPath string
	show := &cobra.Command{
		Use:   "show auth|sign",
		Short: "Show the user-authentication (auth) or signing (sign, needs the signing password) certificate",
		Long: `Show the 利用者証明用電子証明書 (auth) or the 署名用電子証明書 (sign; asks for the
signing password) with its holder attributes, and check it against the J-LIS
roots (and --trust-dir anchors) now; the card's copy of its CA certificate is
compared with the anchor, never trusted itself.

With --pem or --out the certificate is only exported (exit 0; a signing
certificate holds the holder's name, address and birth date: --out writes it
with mode 0600). Otherwise the exit status is the verdict: 0 genuine, 1 not
genuine, 2 unknown, 3 error, 4 expired or revoked. A certificate is public
and a blank card can serve a copy, so the verdict is at best unknown unless
the certificate is tied to the chip:

  auth  --prove-key: the authentication key signs a fresh host nonce (JPKI PIN).
  sign  --prove-sign-key: the signing key signs a fresh host nonce under a
        fixed context that can never be a document signature (the signing
        password, already asked to read the certificate); or --match-text:
        the certificate's name, address, birth date and sex must equal the
        text applet's facts, read and tied to the chip (its PIN).
        The authentication key's proof does not tie a signing certificate:
        nothing links the two keys, and a signing certificate is inside
        every document its holder signs.`,
		Args: oneArgOf("証明書", "the certificate", "auth", "sign"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := mynakit.CertKind(args[0])
			if kind != mynakit.CertAuth && kind != mynakit.CertSign {
				return fail(fmt.Errorf("show which certificate? %q (want auth or sign)", args[0]))
			}
			if kind == mynakit.CertSign && prove && !proveSign && !matchText {
				fmt.Fprintln(a.err, "note: --prove-key proves the authentication key, which does not tie the signing certificate; use --prove-sign-key or --match-text")
			}
			opts := mynakit.CertificateOptions{NoVerify: asPEM || out != "", ProveKey: prove, ProveSignKey: proveSign && kind == mynakit.CertSign, MatchText: matchText && kind == mynakit.CertSign}
			if crlPath != "" {
				crl, err := trust.LoadCRL(crlPath)
				if err != nil {
					return fail(err)
				}
				opts.CRL = crl
			}
			ctx := cmd.Context()
			card, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer card.Close()
			rep, err := card.Certificate(ctx, kind, opts)
			if err != nil {
				return fail(err)
			}
			cert := rep.Certificate
			if opts.NoVerify {
				data := cert.Raw
				if asPEM {
					data = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
				}
				if out == "" {
					_, err := a.out.Write(data)
					return err
				}
				if err := atomicfile.WriteFile(out, data, atomicfile.Private); err != nil {
					return fail(err)
				}
				fmt.Fprintf(a.err, "wrote %s\n", out)
				return nil
			}
			if asJSON {
				v := present.CertificateCheckOf(cert, rep.Verdict, rep.Checks, rep.Attributes)
				if err := writeJSON(a, v); err != nil {
					return err
				}
				return exitFor(rep.Verdict)
			}
			printCert(a, cert, rep)
			return exitFor(rep.Verdict)
		},
	}
	show.Flags().BoolVar(&asPEM, "pem", false, "print (or write) PEM, without verification")
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show.Flags().BoolVar(&prove, "prove-key", false, "prove the chip holds the authentication certificate's key (asks for the JPKI PIN); without a proof the verdict is at best unknown")
	show.Flags().BoolVar(&proveSign, "prove-sign-key", false, "sign: prove the chip holds the signing certificate's key (a domain-separated nonce signature, never a document signature)")
	show.Flags().BoolVar(&matchText, "match-text", false, "sign: tie the signing certificate by its holder facts to the text applet's facts, read and tied to the chip")
	show.Flags().StringVar(&out, "out", "", "write the certificate to this file (DER, or PEM with --pem), without verification")
	show.Flags().StringVar(&crlPath, "crl", "", "check the certificate against this CRL (DER or PEM)")
	cmd.AddCommand(show)
	return cmd
}

func printCert(a *app, cert *x509.Certificate, rep *mynakit.CertificateReport) {
	tw := &table{width: termWidth(a.out)}
	row := func(k, v string) { tw.add(k, v) }
	row("主体者 Subject", cert.Subject.String())
	row("発行者 Issuer", cert.Issuer.String())
	row("シリアル番号 Serial", fmt.Sprintf("%X", cert.SerialNumber))
	row("有効期間 Valid", fmt.Sprintf("%s to %s", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
	row("Subject key ID", hex.EncodeToString(cert.SubjectKeyId))
	row("Authority key ID", hex.EncodeToString(cert.AuthorityKeyId))
	if at := rep.Attributes; at != nil {
		row("氏名 Name", at.Name)
		row("住所 Address", at.Address)
		if !at.BirthDate.IsZero() {
			row("生年月日 Birth date", fmt.Sprintf("%s (%s)", at.BirthDate.String(), at.BirthEra))
		}
		row("性別 Sex", at.Sex)
		row("代替文字 Substitutions", fmt.Sprintf("name %s, address %s", orNone(at.NameSubstitution), orNone(at.AddressSubstitution)))
	}
	tw.write(a.out)
	fmt.Fprintln(a.out)
	printChecks(a, rep.Checks)
	fmt.Fprintln(a.out, strings.TrimSpace(verdictLine(rep.Verdict, rep.Checks)))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
