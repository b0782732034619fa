package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // photos of codes
	_ "image/png"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/qr"
)

func init() { register(newQRCmd) }

func newQRCmd(a *app) *cobra.Command {
	mk := &qrMake{}
	cmd := &cobra.Command{
		Use:   "qr",
		Short: "Offline-verifiable QR codes of card facts",
		Long: `QR codes that carry card facts with J-LIS's signatures over them, so they can
be checked later without the card:

  age         the birth date from the card-face applet's age-verification
              record. Nothing else is shown, but the card key in it identifies
              the card: two age codes from one card can be linked.
  attributes  name, address, birth date and sex from the text applet, with the
              digest of the My Number file. The digest of a 12-digit number
              with a check digit is found by trying all of them in minutes, so
              this code effectively discloses the My Number.

A genuine code proves that a genuine card holds these facts, not that the
person showing it holds the card: a copy verifies as well as the original.

  mynakit qr --kind age [--out code.png]
  mynakit qr --kind attributes --include-my-number-digest [--out code.png]
  mynakit qr verify FILE|-

Making a code reads the card (PIN once); the code is written only when the
card's data verifies under its own certificate and the card itself is genuine.
--include-my-number-digest is required for attributes because that code
discloses the My Number (see above). Without --out the code's text
(MYNAKIT:...) is printed; --json prints it with the payload size.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return makeQR(cmd, a, mk)
		},
	}
	cmd.Flags().StringVar(&mk.kind, "kind", "", "the code to make: age or attributes")
	cmd.Flags().StringVar(&mk.out, "out", "", "write the code as PNG to this file (mode 0600)")
	cmd.Flags().BoolVar(&mk.digest, "include-my-number-digest", false, "allow an attributes code, which carries the My Number file's digest and so discloses the My Number")
	cmd.Flags().BoolVar(&mk.asJSON, "json", false, "print the code's text and size as JSON")
	cmd.AddCommand(newQRVerifyCmd(a))
	return cmd
}

type qrMake struct {
	kind, out      string
	digest, asJSON bool
}

func makeQR(cmd *cobra.Command, a *app, mk *qrMake) error {
	if mk.kind == "" {
		return cmd.Help()
	}
	kind, err := qr.ParseKind(mk.kind)
	if err != nil {
		return fail(err)
	}
	ro := mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartSurface}, AgeRecord: true}
	if kind == qr.KindAttributes {
		if !mk.digest {
			return fail(errors.New("an attributes code carries the My Number file's digest, from which the My Number is found in minutes; add --include-my-number-digest to make it anyway"))
		}
		ro = mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartText, mynakit.PartSurface}}
	}
	ctx := cmd.Context()
	card, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer card.Close()
	r, err := card.Read(ctx, ro)
	if err != nil {
		return fail(err)
	}
	p, err := r.QRCode(kind)
	var ng *mynakit.NotGenuineError
	if errors.As(err, &ng) {
		fmt.Fprintln(a.out, verdictLine(r.Verdict, r.Checks))
		return &exitError{code: exitFor(r.Verdict).(*exitError).code, err: err}
	}
	if err != nil {
		return fail(err)
	}
	text, err := p.Text()
	if err != nil {
		return fail(err)
	}
	if mk.out != "" {
		png, err := qr.PNG(p, 0)
		if err != nil {
			return fail(err)
		}
		if err := atomicfile.WriteFile(mk.out, png, atomicfile.Private); err != nil {
			return fail(err)
		}
		fmt.Fprintf(a.err, "wrote %s\n", mk.out)
	}
	if mk.asJSON {
		sum, err := qr.Summarize(p)
		if err != nil {
			return fail(err)
		}
		return writeJSON(a, sum)
	}
	if mk.out == "" {
		fmt.Fprintln(a.out, text)
	}
	return nil
}

// maxQRInputBytes bounds what qr verify reads: a phone photo of a code.
const maxQRInputBytes = 32 << 20

func newQRVerifyCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify FILE|-",
		Short: "Verify a code: a PNG or JPEG picture of it, its text, or the raw payload",
		Long: `Verify a mynakit QR code against J-LIS's CV CA keys (and --trust-dir):
FILE (or - for standard input) is a PNG or JPEG picture of the code (a
screenshot or a photo), the code's text (MYNAKIT:...), or the raw CBOR
payload. Prints the facts and one row per check.

Exit status: 0 genuine, 1 not genuine (a check failed), 2 unknown (a check
could not be made, e.g. no trust anchor for the code's CA), 3 unreadable
input or a payload that does not decode.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readQRInput(a, args[0])
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			p, err := qr.Decode(raw)
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			store, err := a.trustStore()
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			r := qr.Verify(p, store)
			if asJSON {
				if err := writeJSON(a, r); err != nil {
					return err
				}
			} else {
				printQR(a, r)
			}
			return exitFor(r.Verdict)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: kind, the facts, checks and verdict")
	return cmd
}

// readQRInput reads FILE or stdin and returns the payload bytes: from a
// picture by scanning it, from the code's text by base45, or as given.
func readQRInput(a *app, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = a.in
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxQRInputBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxQRInputBytes {
		return nil, fmt.Errorf("%s: more than %d bytes", name, maxQRInputBytes)
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")), bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if cfg.Width*cfg.Height > qr.MaxScanPixels {
			return nil, fmt.Errorf("%s: %d×%d pixels is too large a picture", name, cfg.Width, cfg.Height)
		}
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return qr.Scan(img)
	case bytes.HasPrefix(bytes.TrimSpace(b), []byte(qr.TextPrefix)):
		return qr.ParseText(string(b))
	case len(b) == 0:
		return nil, errors.New("empty input")
	}
	return b, nil
}

func printQR(a *app, r *qr.Result) {
	tw := &table{indent: "  "}
	fmt.Fprintf(a.out, "QR コード / mynakit %s code\n", r.Kind)
	if r.Name != "" {
		tw.add("氏名 Name", r.Name)
	}
	if r.Address != "" {
		tw.add("住所 Address", r.Address)
	}
	if !r.BirthDate.IsZero() {
		tw.add("生年月日 Birth date", birthLabel(r.BirthDate))
	}
	if r.Sex != "" {
		tw.add("性別 Sex", fmt.Sprintf("%s (%s)", r.Sex.Japanese(), r.Sex))
	}
	tw.write(a.out)
	printChecks(a, r.Checks)
	fmt.Fprintln(a.out, verdictLine(r.Verdict, r.Checks))
	fmt.Fprintln(a.out, "  A code proves what a genuine card holds, not that its holder is here.")
}
