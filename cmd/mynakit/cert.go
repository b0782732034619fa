package main

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

func init() { register(newCertCmd) }

func newCertCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "JPKI certificates (電子証明書)"}
	var asPEM, asJSON bool
	var out string
	show := &cobra.Command{
		Use:   "show auth|sign",
		Short: "Show the user-authentication (auth) or signing (sign, needs the signing password) certificate",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var fid uint16
			switch args[0] {
			case "auth":
				fid = myna.JPKIAuthCert
			case "sign":
				fid = myna.JPKISignCert
			default:
				return &exitError{code: exitUsageOrCard, err: fmt.Errorf("show which certificate? %q (want auth or sign)", args[0])}
			}
			ctx := cmd.Context()
			var cert *x509.Certificate
			err := a.withCard(ctx, func(_ *cardHandle, sess *pin.Session) error {
				var err error
				cert, err = jpki.NewCard(sess).Certificate(ctx, fid)
				return err
			})
			if err != nil {
				return err
			}
			if out != "" {
				data := cert.Raw
				if asPEM {
					data = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
				}
				if err := os.WriteFile(out, data, 0o644); err != nil {
					return &exitError{code: exitUsageOrCard, err: err}
				}
				fmt.Fprintf(a.err, "wrote %s\n", out)
				return nil
			}
			if asPEM {
				return pem.Encode(a.out, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
			}
			attrs, _ := jpki.ParseAttributes(cert)
			if asJSON {
				v := map[string]any{"certificate": certSummary(cert), "subject_key_id": hex.EncodeToString(cert.SubjectKeyId), "authority_key_id": hex.EncodeToString(cert.AuthorityKeyId)}
				if attrs != nil {
					a := map[string]any{"name": attrs.Name, "address": attrs.Address, "sex": attrs.Sex, "name_substitution": attrs.NameSubstitution, "address_substitution": attrs.AddressSubstitution}
					if !attrs.BirthDate.IsZero() {
						a["birth_date"] = attrs.BirthDate.Format("2006-01-02")
					}
					v["attributes"] = a
				}
				return writeJSON(a, v)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
			row("Subject", cert.Subject.String())
			row("Issuer", cert.Issuer.String())
			row("Serial", fmt.Sprintf("%X", cert.SerialNumber))
			row("Valid", fmt.Sprintf("%s to %s", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
			row("Subject key ID", hex.EncodeToString(cert.SubjectKeyId))
			row("Authority key ID", hex.EncodeToString(cert.AuthorityKeyId))
			if attrs != nil {
				row("氏名 Name", attrs.Name)
				row("住所 Address", attrs.Address)
				if !attrs.BirthDate.IsZero() {
					row("生年月日 Birth date", fmt.Sprintf("%s (%s)", attrs.BirthDate.Format("2006-01-02"), attrs.BirthEra))
				}
				row("性別 Sex", attrs.Sex)
				row("代替文字 Substitutions", fmt.Sprintf("name %s, address %s", attrs.NameSubstitution, attrs.AddressSubstitution))
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&asPEM, "pem", false, "print (or write) PEM")
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show.Flags().StringVar(&out, "out", "", "write the certificate to this file (DER, or PEM with --pem)")
	cmd.AddCommand(show)
	return cmd
}
