package main

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/face"
	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/present"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newReadCmd); register(newVerifyCmd) }

type readFlags struct {
	asJSON     bool
	only       string
	photoOut   string
	unverified bool
	crl        string
	thorough   bool
	proveKey   bool
	showMyNum  bool
}

func (f *readFlags) register(cmd *cobra.Command, photo bool) {
	fl := cmd.Flags()
	fl.BoolVar(&f.asJSON, "json", false, "print JSON (see README for the fields)")
	fl.StringVar(&f.only, "only", "", "read only these parts: jpki,text,surface,common")
	fl.StringVar(&f.crl, "crl", "", "check the JPKI certificate against this CRL (DER or PEM)")
	fl.BoolVar(&f.thorough, "thorough", false, "make every check the card allows (card-level CV chain, CA certificates, age record, ...)")
	fl.BoolVar(&f.proveKey, "prove-key", false, "prove the chip holds the JPKI authentication key (asks for the JPKI PIN)")
	if photo {
		fl.BoolVar(&f.showMyNum, "show-my-number", false, "show the whole My Number (個人番号); by default all but its last four digits are hidden")
		fl.StringVar(&f.photoOut, "photo-out", "", "write the photo (JPEG 2000, as stored) to this file (mode 0600)")
		fl.BoolVar(&f.unverified, "unverified", false, "with --photo-out: write the photo even when its signature did not verify")
	}
}

func (a *app) runRead(cmd *cobra.Command, f readFlags) (*mynakit.Report, error) {
	parts, err := mynakit.ParseParts(f.only)
	if err != nil {
		return nil, fail(fmt.Errorf("--only: %w", err))
	}
	var crl *x509.RevocationList
	if f.crl != "" {
		if crl, err = trust.LoadCRL(f.crl); err != nil {
			return nil, fail(err)
		}
	}
	ctx := cmd.Context()
	card, err := a.open(ctx)
	if err != nil {
		return nil, err
	}
	defer card.Close()
	opts := mynakit.ReadOptions{Parts: parts, CRL: crl, Thorough: f.thorough, ProveJPKIKey: f.proveKey}
	if !f.asJSON {
		opts.Progress = func(p mynakit.Progress) {
			if !p.Done {
				fmt.Fprintf(a.err, "reading %s ...\n", p.Step)
			}
		}
	}
	r, err := card.Read(ctx, opts)
	if err != nil {
		return nil, fail(err)
	}
	if f.photoOut != "" && r.Surface != nil {
		if !r.Covered(face.PartPhoto) && !f.unverified {
			c, _ := r.Check(face.PartPhoto.CoveredBy())
			return r, fail(fmt.Errorf("--photo-out: the photo's signature did not verify (%s); add --unverified to write it anyway", c.Result))
		}
		if err := atomicfile.WriteFile(f.photoOut, r.Surface.Photo, atomicfile.Private); err != nil {
			return r, fail(err)
		}
	}
	return r, nil
}

func newReadCmd(a *app) *cobra.Command {
	var f readFlags
	cmd := &cobra.Command{
		Use:   "read",
		Short: "Read the card with one PIN prompt and verify it against J-LIS's keys",
		Long: `Read the card's text data (My Number and the four basic facts), the card face,
the card information and the JPKI user-authentication certificate, asking for
the 4-digit PIN once (or, with --code-b, 照合番号B), and verify everything
against J-LIS's keys. The verdict rule is in the README ("What genuine means").

Values no J-LIS signature covers (the card expiry, the security-code image, the
共通AP record, the municipality code) are marked unsigned.

Exit status: 0 genuine, 1 not genuine, 2 unknown (an anchor is missing),
3 the card, the reader, a PIN or the command failed, 4 genuine but expired or
revoked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := a.runRead(cmd, f)
			if err != nil {
				return err
			}
			if f.asJSON {
				if err := writeJSON(a, r); err != nil {
					return err
				}
			} else {
				printRead(a, r, f.showMyNum)
			}
			return exitFor(r.Verdict)
		},
	}
	f.register(cmd, true)
	return cmd
}

func newVerifyCmd(a *app) *cobra.Command {
	var f readFlags
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify the card against J-LIS's keys: one row per check",
		Long: `Read the card as 'read' does and print one row per check.

Exit status: 0 genuine, 1 not genuine, 2 unknown (an anchor is missing),
3 the card, the reader, a PIN or the command failed, 4 genuine but expired or
revoked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := a.runRead(cmd, f)
			if err != nil {
				return err
			}
			if f.asJSON {
				b, err := r.MarshalVerificationJSON()
				if err != nil {
					return err
				}
				if err := writeJSON(a, json.RawMessage(b)); err != nil {
					return err
				}
			} else {
				printChecks(a, r.Checks)
				fmt.Fprintln(a.out, verdictLine(r.Verdict, r.Checks))
			}
			return exitFor(r.Verdict)
		},
	}
	f.register(cmd, false)
	return cmd
}

func printRead(a *app, r *mynakit.Report, showMyNumber bool) {
	tw := &table{indent: "  ", width: termWidth(a.out)}
	row := func(label, value string) { tw.add(label, value) }
	fmt.Fprintln(a.out, "マイナンバーカード / Individual Number Card")
	const unsigned = " (署名なし unsigned)"
	if t := r.Text; t != nil {
		row("氏名 Name", t.Name)
		row("住所 Address", t.Address)
		row("生年月日 Birth date", birthLabel(t.BirthDate))
		row("性別 Sex", fmt.Sprintf("%s (%s)", t.Sex.Japanese(), t.Sex))
		if showMyNumber {
			if d := t.MyNumber.Grouped(); d != "" {
				row("個人番号 My Number", d)
			}
		} else if d := t.MyNumber.Masked(); d != "" {
			row("個人番号 My Number", d+"  (--show-my-number で全桁 to show all)")
		}
	}
	if s := r.Surface; s != nil {
		if r.Text == nil {
			row("生年月日 Birth date", birthLabel(s.BirthDate))
			row("性別 Sex", fmt.Sprintf("%s (%s)", s.Sex.Japanese(), s.Sex))
		}
		row("顔写真 Photo", fmt.Sprintf("%s, %d bytes", present.ImageFormat(s.Photo), len(s.Photo)))
		exp := s.ExpiryDate.String() + unsigned
		if r.Expiry.CardExpired {
			exp += " — 期限切れ EXPIRED"
		}
		row("有効期限 Card expiry", exp)
		if s.SecurityCodeImage != nil {
			row("セキュリティコード画像 Security-code image", fmt.Sprintf("%s, %d bytes%s", present.ImageFormat(s.SecurityCodeImage), len(s.SecurityCodeImage), unsigned))
		}
		if s.MunicipalityCode != "" {
			row("発行自治体 Municipality (券面 EF 0003)", s.MunicipalityCode+unsigned)
		}
	}
	if c := r.Common; c != nil {
		if r.Surface == nil {
			exp := c.ExpiryDate.String() + unsigned
			if r.Expiry.CardExpired {
				exp += " — 期限切れ EXPIRED"
			}
			row("有効期限 Card expiry", exp)
		}
		row("発行自治体 Municipality", c.MunicipalityCode+unsigned)
		row("カード番号 Card serial", c.Serial+unsigned)
	}
	if len(r.Missing) > 0 {
		var names []string
		for _, m := range r.Missing {
			names = append(names, m.Name())
		}
		row("無い AP Applets not on this token", strings.Join(names, ", "))
	}
	if r.Token != "" {
		row("種別 Token", fmt.Sprintf("%s (%s)", r.Token, r.TokenLabel))
	}
	if j := r.JPKI; j != nil {
		c := j.AuthCertificate
		v := fmt.Sprintf("serial %X, valid %s to %s — %s", c.SerialNumber, c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"), j.Status())
		if r.Expiry.Revoked {
			v += " — 失効 REVOKED"
		} else if r.Expiry.CertificateExpired {
			v += " — 期限切れ EXPIRED"
		}
		row("利用者証明用証明書 Auth cert", v)
	}
	tw.write(a.out)
	fmt.Fprintln(a.out, verdictLine(r.Verdict, r.Checks))
	for _, c := range r.Checks {
		if c.Result != trust.Pass {
			fmt.Fprintf(a.out, "  %s: %s — %s\n", safe(string(c.Name)), strings.ToUpper(string(c.Result)), safe(c.Detail))
		}
	}
}

// birthLabel shows a Gregorian date with its Japanese era.
func birthLabel(d myna.Date) string {
	if d.IsZero() {
		return ""
	}
	era, y, err := myna.EraOf(d.Time())
	if err != nil {
		return d.String()
	}
	return fmt.Sprintf("%s (%s%d年%d月%d日)", d, era, y, int(d.Month), d.Day)
}

func spacedHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{c}))
	}
	return strings.Join(parts, " ")
}
