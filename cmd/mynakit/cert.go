package main

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newCertCmd) }

// certKind is what `cert show` knows about each certificate.
type certKind struct {
	fid, caFID     uint16
	check, caCheck trust.CheckName
	nonRepudiation bool
}

var certKinds = map[string]certKind{
	"auth": {myna.JPKIAuthCert, myna.JPKIAuthCACert, "x509:auth-certificate", "x509:auth-ca-certificate", false},
	"sign": {myna.JPKISignCert, myna.JPKISignCACert, "x509:sign-certificate", "x509:sign-ca-certificate", true},
}

func newCertCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "JPKI certificates (電子証明書)"}
	var asPEM, asJSON bool
	var out, crlPath string
	show := &cobra.Command{
		Use:   "show auth|sign",
		Short: "Show the user-authentication (auth) or signing (sign, needs the signing password) certificate",
		Long: `Show the 利用者証明用電子証明書 (auth) or the 署名用電子証明書 (sign; asks for the
signing password) with its holder attributes, and check it against the J-LIS
roots (and --trust-dir anchors) now; the card's copy of its CA certificate is
compared with the anchor, never trusted itself.

With --pem or --out the certificate is only exported (exit 0). Otherwise the
exit status is the verdict: 0 genuine, 1 not genuine, 2 unknown, 3 usage or
card errors.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, ok := certKinds[args[0]]
			if !ok {
				return &exitError{code: exitUsageOrCard, err: fmt.Errorf("show which certificate? %q (want auth or sign)", args[0])}
			}
			var crl *x509.RevocationList
			if crlPath != "" {
				var err error
				if crl, err = trust.LoadCRL(crlPath); err != nil {
					return &exitError{code: exitUsageOrCard, err: err}
				}
			}
			ctx := cmd.Context()
			var cert, ca *x509.Certificate
			var store *trust.Store
			exportOnly := asPEM || out != ""
			err := a.withCard(ctx, func(h *cardHandle, sess *pin.Session) error {
				jc := jpki.NewCard(sess)
				var err error
				if cert, err = jc.Certificate(ctx, kind.fid); err != nil || exportOnly {
					return err
				}
				if ca, err = jc.Certificate(ctx, kind.caFID); err != nil {
					return err
				}
				store, err = a.trustStore(h.Simulated)
				return err
			})
			if err != nil {
				return err
			}
			if exportOnly {
				data := cert.Raw
				if asPEM {
					data = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
				}
				if out == "" {
					_, err := a.out.Write(data)
					return err
				}
				if err := os.WriteFile(out, data, 0o644); err != nil {
					return &exitError{code: exitUsageOrCard, err: err}
				}
				fmt.Fprintf(a.err, "wrote %s\n", out)
				return nil
			}
			checks := []trust.Check{
				store.VerifyCertificate(cert, trust.CertOptions{Name: kind.check, At: time.Now(), NonRepudiation: kind.nonRepudiation, CRL: crl}),
				store.CompareCardCA(kind.caCheck, ca, cert),
			}
			verdict := trust.Decide(checks)
			attrs, _ := jpki.ParseAttributes(cert)
			if asJSON {
				v := map[string]any{
					"certificate":      certSummary(cert),
					"subject_key_id":   hex.EncodeToString(cert.SubjectKeyId),
					"authority_key_id": hex.EncodeToString(cert.AuthorityKeyId),
					"verification":     map[string]any{"verdict": verdict, "checks": checks},
				}
				if attrs != nil {
					a := map[string]any{"name": attrs.Name, "address": attrs.Address, "sex": attrs.Sex, "name_substitution": attrs.NameSubstitution, "address_substitution": attrs.AddressSubstitution}
					if !attrs.BirthDate.IsZero() {
						a["birth_date"] = attrs.BirthDate.Format("2006-01-02")
					}
					v["attributes"] = a
				}
				if err := writeJSON(a, v); err != nil {
					return err
				}
				return exitFor(verdict)
			}
			tw := &table{}
			row := func(k, v string) { tw.add(k, v) }
			row("主体者 Subject", cert.Subject.String())
			row("発行者 Issuer", cert.Issuer.String())
			row("シリアル番号 Serial", fmt.Sprintf("%X", cert.SerialNumber))
			row("有効期間 Valid", fmt.Sprintf("%s to %s", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
			row("Subject key ID", hex.EncodeToString(cert.SubjectKeyId))
			row("Authority key ID", hex.EncodeToString(cert.AuthorityKeyId))
			if attrs != nil {
				row("氏名 Name", attrs.Name)
				row("住所 Address", attrs.Address)
				if !attrs.BirthDate.IsZero() {
					row("生年月日 Birth date", fmt.Sprintf("%s (%s)", attrs.BirthDate.Format("2006-01-02"), attrs.BirthEra))
				}
				row("性別 Sex", attrs.Sex)
				row("代替文字 Substitutions", fmt.Sprintf("name %s, address %s", orNone(attrs.NameSubstitution), orNone(attrs.AddressSubstitution)))
			}
			tw.write(a.out)
			fmt.Fprintln(a.out)
			printChecks(a, checks)
			fmt.Fprintln(a.out, strings.TrimSpace(verdictLine(verdict, checks)))
			return exitFor(verdict)
		},
	}
	show.Flags().BoolVar(&asPEM, "pem", false, "print (or write) PEM, without verification")
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show.Flags().StringVar(&out, "out", "", "write the certificate to this file (DER, or PEM with --pem), without verification")
	show.Flags().StringVar(&crlPath, "crl", "", "check the certificate against this CRL (DER or PEM)")
	cmd.AddCommand(show)
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
