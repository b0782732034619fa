package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newSignCmd); register(newVerifySignatureCmd) }

func newSignCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "sign FILE",
		Short: "Sign a file with the card's signing key (detached CMS, .p7s)",
		Long: `Make a detached CMS SignedData (SHA-256, signing time) over FILE with the
card's 署名用 key and certificate, the card's CA certificate included. Asks
for the signing password once. Verify with 'mynakit verify-signature' or
'openssl cms -verify -binary -inform DER -content FILE -in FILE.p7s'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			content, err := os.ReadFile(args[0])
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			if out == "" {
				out = args[0] + ".p7s"
			}
			ctx := cmd.Context()
			var sig []byte
			err = a.withCard(ctx, func(_ *cardHandle, sess *pin.Session) error {
				jc := jpki.NewCard(sess)
				cert, err := jc.SignCertificate(ctx)
				if err != nil {
					return err
				}
				ca, err := jc.SignCACertificate(ctx)
				if err != nil {
					return err
				}
				sig, err = jpki.SignCMS(content, jc.SignSigner(ctx, cert), cert, ca)
				return err
			})
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, sig, 0o644); err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			fmt.Fprintf(a.out, "signed %s -> %s (%d bytes)\n", args[0], out, len(sig))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "signature file (default FILE.p7s)")
	return cmd
}

func newVerifySignatureCmd(a *app) *cobra.Command {
	var asJSON bool
	var crlPath string
	cmd := &cobra.Command{
		Use:   "verify-signature FILE FILE.p7s",
		Short: "Verify a detached CMS signature and its certificate chain to the J-LIS roots",
		Long: `Check a detached CMS signature over FILE and the signer's certificate against
the J-LIS roots (and --trust-dir anchors) at the signing time. No card needed.
With --simulator or --sim-image the simulator's test hierarchy is trusted too.

Exit status: 0 genuine, 1 not genuine, 2 unknown (no anchor), 3 usage errors.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			content, err := os.ReadFile(args[0])
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			sig, err := os.ReadFile(args[1])
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			store, err := a.trustStore(a.simulatedFlags())
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			var crl *x509.RevocationList
			if crlPath != "" {
				if crl, err = trust.LoadCRL(crlPath); err != nil {
					return &exitError{code: exitUsageOrCard, err: err}
				}
			}
			res, err := jpki.VerifyCMS(content, sig, store, crl)
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			if asJSON {
				v := map[string]any{"verdict": res.Verdict, "checks": res.Checks, "signer": certSummary(res.Signer)}
				if !res.SigningTime.IsZero() {
					v["signing_time"] = res.SigningTime.UTC().Format("2006-01-02T15:04:05Z")
				}
				if err := writeJSON(a, v); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.out, "署名者 Signer: %s\n", res.Signer.Subject)
				if attrs, err := jpki.ParseAttributes(res.Signer); err == nil {
					fmt.Fprintf(a.out, "氏名 Name: %s\n", attrs.Name)
				}
				if !res.SigningTime.IsZero() {
					fmt.Fprintf(a.out, "署名日時 Signing time: %s\n", res.SigningTime.UTC().Format("2006-01-02 15:04:05 UTC"))
				}
				printChecks(a, res.Checks)
				fmt.Fprintln(a.out, strings.TrimSpace(verdictLine(res.Verdict, res.Checks)))
			}
			return exitFor(res.Verdict)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&crlPath, "crl", "", "check the signer's certificate against this CRL (DER or PEM)")
	return cmd
}
