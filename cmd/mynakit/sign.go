package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/present"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newSignCmd); register(newVerifySignatureCmd) }

func newSignCmd(a *app) *cobra.Command {
	var out, tsa string
	cmd := &cobra.Command{
		Use:   "sign FILE",
		Short: "Sign a file with the card's signing key (detached CMS, .p7s)",
		Long: `Make a detached CMS SignedData (SHA-256, signing time) over FILE with the
card's 署名用 key and certificate, the card's CA certificate included. Asks
for the signing password once. With --tsa URL the signature is timestamped by
that RFC 3161 time-stamping authority, so it can be judged at that time later.

The signature holds the signing certificate, which names the holder (name,
address, birth date): it is written with mode 0600. Verify with
'mynakit verify-signature' or
'openssl cms -verify -binary -inform DER -content FILE -in FILE.p7s'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			content, err := os.ReadFile(args[0])
			if err != nil {
				return fail(err)
			}
			if out == "" {
				out = args[0] + ".p7s"
			}
			ctx := cmd.Context()
			card, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer card.Close()
			var opts mynakit.SignOptions
			if tsa != "" {
				opts.Timestamper = jpki.HTTPTimestamper(ctx, tsa)
			}
			sig, err := card.SignDocument(ctx, content, opts)
			if err != nil {
				return fail(err)
			}
			if err := atomicfile.WriteFile(out, sig, atomicfile.Private); err != nil {
				return fail(err)
			}
			fmt.Fprintf(a.out, "signed %s -> %s (%d bytes)\n", args[0], out, len(sig))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "signature file (default FILE.p7s)")
	cmd.Flags().StringVar(&tsa, "tsa", "", "URL of an RFC 3161 time-stamping authority to timestamp the signature")
	return cmd
}

func newVerifySignatureCmd(a *app) *cobra.Command {
	var asJSON, allowSHA1 bool
	var crlPath string
	var tsaRoots []string
	cmd := &cobra.Command{
		Use:   "verify-signature FILE FILE.p7s",
		Short: "Verify a detached CMS signature and its certificate chain to the J-LIS roots",
		Long: `Check a detached CMS signature over FILE and the signer's certificate against
the J-LIS roots (and --trust-dir anchors). No card needed.

The certificate's validity and revocation are judged now. The signing time the
signer wrote is shown but never trusted (a revoked key could backdate a new
signature); only an RFC 3161 timestamp from an authority given with
--tsa-root may set an earlier time. A CRL outside its thisUpdate-nextUpdate
window makes the result unknown. A SHA-1 digest or signature is unknown
(SHA-1 is no longer evidence) unless --allow-sha1, and then it is shown with
a warning. With --simulator or --sim-image the simulator's test hierarchy is
trusted too.

Exit status: 0 genuine, 1 not genuine, 2 unknown, 3 usage errors, 4 the
certificate has expired (and no trusted timestamp says the signature is older).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			content, err := os.ReadFile(args[0])
			if err != nil {
				return fail(err)
			}
			sig, err := os.ReadFile(args[1])
			if err != nil {
				return fail(err)
			}
			opts := mynakit.SignatureOptions{TrustDirs: a.trustDirs, AllowSHA1: allowSHA1}
			if a.simulated() {
				opts.TestAnchors = simulator.TestHierarchy{}
			}
			if opts.CRL, opts.TSARoots, err = loadRevocationAndTime(crlPath, tsaRoots); err != nil {
				return fail(err)
			}
			res, err := mynakit.VerifySignature(content, sig, opts)
			if err != nil {
				return fail(err)
			}
			if asJSON {
				v := present.SignatureOf(res.CMSResult)
				if err := writeJSON(a, v); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.out, "署名者 Signer: %s\n", safe(res.Signer.Subject.String()))
				if res.Attributes != nil {
					fmt.Fprintf(a.out, "氏名 Name: %s\n", safe(res.Attributes.Name))
				}
				if !res.SigningTime.IsZero() {
					fmt.Fprintf(a.out, "署名日時 Signing time: %s (as the signer wrote it; not trusted)\n", res.SigningTime.UTC().Format("2006-01-02 15:04:05 UTC"))
				}
				if !res.Timestamp.IsZero() {
					fmt.Fprintf(a.out, "タイムスタンプ Timestamp: %s (trusted)\n", res.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC"))
				} else if res.TimestampNote != "" {
					fmt.Fprintf(a.out, "タイムスタンプ Timestamp: not used — %s\n", safe(res.TimestampNote))
				}
				fmt.Fprintf(a.out, "判定時刻 Judged at: %s\n", res.JudgedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
				printChecks(a, res.Checks)
				fmt.Fprintln(a.out, strings.TrimSpace(verdictLine(res.Verdict, res.Checks)))
				for _, w := range res.Warnings {
					fmt.Fprintf(a.out, "警告 WARNING: %s\n", w)
				}
			}
			return exitFor(res.Verdict)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&crlPath, "crl", "", "check the signer's certificate against this CRL (DER or PEM)")
	cmd.Flags().BoolVar(&allowSHA1, "allow-sha1", false, "accept a SHA-1 signature, with a warning (otherwise it is unknown: SHA-1 is no longer evidence)")
	cmd.Flags().StringArrayVar(&tsaRoots, "tsa-root", nil, "PEM file of a trusted RFC 3161 time-stamping authority root; repeatable")
	return cmd
}

func loadPEMCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return out, nil
}

// loadRevocationAndTime loads what --crl and --tsa-root name for a
// signature verification: the CRL (nil without the flag) and the trusted
// time-stamping roots.
func loadRevocationAndTime(crlPath string, tsaRootFiles []string) (*x509.RevocationList, []*x509.Certificate, error) {
	var crl *x509.RevocationList
	if crlPath != "" {
		var err error
		if crl, err = trust.LoadCRL(crlPath); err != nil {
			return nil, nil, err
		}
	}
	var roots []*x509.Certificate
	for _, p := range tsaRootFiles {
		certs, err := loadPEMCerts(p)
		if err != nil {
			return nil, nil, err
		}
		roots = append(roots, certs...)
	}
	return crl, roots, nil
}
