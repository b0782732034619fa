package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newReadCmd); register(newVerifyCmd) }

// readJSON is the documented JSON contract of `read --json`.
type readJSON struct {
	Text         *textJSON    `json:"text,omitempty"`
	Surface      *surfaceJSON `json:"surface,omitempty"`
	Common       any          `json:"common,omitempty"`
	JPKI         *jpkiJSON    `json:"jpki,omitempty"`
	Missing      []string     `json:"missing_applets,omitempty"`
	Verification verifyJSON   `json:"verification"`
}

type textJSON struct {
	MyNumber  string `json:"my_number"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	BirthDate string `json:"birth_date"`
	Sex       string `json:"sex"`
}

type surfaceJSON struct {
	BirthDate        string    `json:"birth_date"`
	Sex              string    `json:"sex"`
	ExpiryDate       string    `json:"expiry_date"`
	MunicipalityCode string    `json:"municipality_code,omitempty"`
	Photo            photoJSON `json:"photo"`
}

type photoJSON struct {
	Format string `json:"format"`
	Bytes  int    `json:"bytes"`
}

type jpkiJSON struct {
	Token           string   `json:"token"`
	AuthCertificate certJSON `json:"auth_certificate"`
}

type certJSON struct {
	Serial    string `json:"serial"`
	Subject   string `json:"subject"`
	Issuer    string `json:"issuer"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
}

type verifyJSON struct {
	Verdict trust.Verdict `json:"verdict"`
	Checks  []trust.Check `json:"checks"`
}

func (r *cardRead) json() readJSON {
	out := readJSON{Missing: r.Missing, Verification: verifyJSON{Verdict: r.Verdict, Checks: r.Checks}}
	if out.Verification.Checks == nil {
		out.Verification.Checks = []trust.Check{}
	}
	if t := r.Text; t != nil {
		out.Text = &textJSON{MyNumber: t.MyNumber.Reveal(), Name: t.Name, Address: t.Address, BirthDate: t.BirthDate, Sex: string(t.Sex)}
	}
	if s := r.Surface; s != nil {
		out.Surface = &surfaceJSON{BirthDate: s.BirthDate, Sex: string(s.Sex), ExpiryDate: s.ExpiryDate, MunicipalityCode: s.MunicipalityCode,
			Photo: photoJSON{Format: photoFormat(s.Photo), Bytes: len(s.Photo)}}
	}
	if r.Common != nil {
		out.Common = r.Common
	}
	if c := r.AuthCert; c != nil {
		out.JPKI = &jpkiJSON{Token: string(r.Token), AuthCertificate: certSummary(c)}
	}
	return out
}

func certSummary(c *x509.Certificate) certJSON {
	return certJSON{
		Serial:    fmt.Sprintf("%X", c.SerialNumber),
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:  c.NotAfter.UTC().Format(time.RFC3339),
	}
}

// photoFormat names the photo's format from its magic bytes.
func photoFormat(b []byte) string {
	switch {
	case len(b) >= 12 && string(b[4:8]) == "jP  ":
		return "jpeg2000"
	case len(b) >= 4 && b[0] == 0xFF && b[1] == 0x4F && b[2] == 0xFF && b[3] == 0x51:
		return "jpeg2000-codestream"
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8:
		return "jpeg"
	}
	return "unknown"
}

// exitFor maps a verdict to the documented exit codes.
func exitFor(v trust.Verdict) error {
	switch v {
	case trust.Genuine:
		return nil
	case trust.NotGenuine:
		return &exitError{code: exitNotGenuine}
	}
	return &exitError{code: exitUnknown}
}

type readFlags struct {
	asJSON   bool
	only     string
	photoOut string
	crl      string
}

func (a *app) runRead(cmd *cobra.Command, f readFlags) (*cardRead, error) {
	p, err := parseParts(f.only)
	if err != nil {
		return nil, &exitError{code: exitUsageOrCard, err: err}
	}
	ctx := cmd.Context()
	h, err := a.openCard(ctx)
	if err != nil {
		return nil, &exitError{code: exitUsageOrCard, err: err}
	}
	defer h.Close()
	store, err := a.trustStore(h.Simulated)
	if err != nil {
		return nil, &exitError{code: exitUsageOrCard, err: err}
	}
	var crl *x509.RevocationList
	if f.crl != "" {
		if crl, err = trust.LoadCRL(f.crl); err != nil {
			return nil, &exitError{code: exitUsageOrCard, err: err}
		}
	}
	sess := a.newSession(h)
	defer sess.Close()
	progress := func(s string) {
		if !f.asJSON {
			fmt.Fprintf(a.err, "reading %s ...\n", s)
		}
	}
	r, err := readCard(ctx, h, sess, store, crl, p, progress)
	if err != nil {
		return nil, &exitError{code: exitUsageOrCard, err: err}
	}
	if f.photoOut != "" && r.Surface != nil {
		if err := os.WriteFile(f.photoOut, r.Surface.Photo, 0o600); err != nil {
			return nil, &exitError{code: exitUsageOrCard, err: err}
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
the 4-digit PIN once, and verify everything against J-LIS's keys.

Exit status: 0 genuine, 1 not genuine (a check failed), 2 unknown (a check
could not be made, e.g. no trust anchor), 3 usage, card or reader errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := a.runRead(cmd, f)
			if err != nil {
				return err
			}
			if f.asJSON {
				if err := writeJSON(a, r.json()); err != nil {
					return err
				}
			} else {
				printRead(a, r)
			}
			return exitFor(r.Verdict)
		},
	}
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON (see README for the fields)")
	cmd.Flags().StringVar(&f.only, "only", "", "read only these parts: jpki,text,surface,common")
	cmd.Flags().StringVar(&f.photoOut, "photo-out", "", "write the photo (JPEG 2000) to this file")
	cmd.Flags().StringVar(&f.crl, "crl", "", "check the JPKI certificate against this CRL (DER or PEM)")
	return cmd
}

func newVerifyCmd(a *app) *cobra.Command {
	var f readFlags
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify the card against J-LIS's keys: one row per check",
		Long: `Read the card as 'read' does and print one row per check.

Exit status: 0 genuine, 1 not genuine (a check failed), 2 unknown (a check
could not be made), 3 or more for usage, card or reader errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := a.runRead(cmd, f)
			if err != nil {
				return err
			}
			if f.asJSON {
				if err := writeJSON(a, r.json().Verification); err != nil {
					return err
				}
			} else {
				printChecks(a, r.Checks)
				fmt.Fprintln(a.out, verdictLine(r.Verdict, r.Checks))
			}
			return exitFor(r.Verdict)
		},
	}
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&f.only, "only", "", "verify only these parts: jpki,text,surface,common")
	cmd.Flags().StringVar(&f.crl, "crl", "", "check the JPKI certificate against this CRL (DER or PEM)")
	return cmd
}

func printChecks(a *app, checks []trust.Check) {
	tw := &table{}
	tw.add("CHECK", "RESULT", "DETAIL", "ANCHOR")
	for _, c := range checks {
		tw.add(string(c.Name), strings.ToUpper(string(c.Result)), c.Detail, c.Anchor)
	}
	tw.write(a.out)
}

func verdictLine(v trust.Verdict, checks []trust.Check) string {
	anchors := map[string]bool{}
	var names []string
	for _, c := range checks {
		if c.Anchor != "" && !anchors[c.Anchor] {
			anchors[c.Anchor] = true
			names = append(names, c.Anchor)
		}
	}
	var failed []string
	for _, c := range checks {
		if c.Result != trust.Pass {
			failed = append(failed, string(c.Name))
		}
	}
	switch v {
	case trust.Genuine:
		return fmt.Sprintf("判定 Verdict: 真正 GENUINE — all %d checks passed; rests on:\n  - %s", len(checks), strings.Join(names, "\n  - "))
	case trust.NotGenuine:
		return fmt.Sprintf("判定 Verdict: 真正でない NOT GENUINE — failed or unverifiable: %s", strings.Join(failed, ", "))
	}
	return fmt.Sprintf("判定 Verdict: 不明 UNKNOWN — could not check: %s", strings.Join(failed, ", "))
}

func printRead(a *app, r *cardRead) {
	tw := &table{indent: "  "}
	row := func(label, value string) { tw.add(label, value) }
	fmt.Fprintln(a.out, "マイナンバーカード / Individual Number Card")
	if t := r.Text; t != nil {
		row("氏名 Name", t.Name)
		row("住所 Address", t.Address)
		row("生年月日 Birth date", birthLabel(t.BirthDate))
		row("性別 Sex", fmt.Sprintf("%s (%s)", t.Sex.Japanese(), t.Sex))
		d := t.MyNumber.Reveal()
		row("個人番号 My Number", d[:4]+" "+d[4:8]+" "+d[8:])
	}
	if s := r.Surface; s != nil {
		if r.Text == nil {
			row("生年月日 Birth date", birthLabel(s.BirthDate))
			row("性別 Sex", fmt.Sprintf("%s (%s)", s.Sex.Japanese(), s.Sex))
		}
		row("有効期限 Card expiry", s.ExpiryDate)
		row("顔写真 Photo", fmt.Sprintf("%s, %d bytes", photoFormat(s.Photo), len(s.Photo)))
	}
	if c := r.Common; c != nil {
		row("発行自治体 Municipality", c.MunicipalityCode)
		row("カード番号 Card serial", c.Serial)
	}
	if len(r.Missing) > 0 {
		row("無い AP Applets not on this token", strings.Join(r.Missing, ", "))
	}
	if r.Token != "" {
		row("種別 Token", string(r.Token))
	}
	if c := r.AuthCert; c != nil {
		row("利用者証明用証明書 Auth cert", fmt.Sprintf("serial %X, valid %s to %s", c.SerialNumber, c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02")))
	}
	tw.write(a.out)
	fmt.Fprintln(a.out, verdictLine(r.Verdict, r.Checks))
	for _, c := range r.Checks {
		if c.Result != trust.Pass {
			fmt.Fprintf(a.out, "  %s: %s — %s\n", c.Name, strings.ToUpper(string(c.Result)), c.Detail)
		}
	}
}

// birthLabel shows a Gregorian date with its Japanese era.
func birthLabel(iso string) string {
	d, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return iso
	}
	era, y, err := myna.EraOf(d)
	if err != nil {
		return iso
	}
	return fmt.Sprintf("%s (%s%d年%d月%d日)", iso, era, y, int(d.Month()), d.Day())
}
