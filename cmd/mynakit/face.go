package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/face"
	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newFaceCmd) }

func newFaceCmd(a *app) *cobra.Command {
	var out, format, all, printOut string
	var unverified bool
	cmd := &cobra.Command{
		Use:   "face",
		Short: "Export the card photo (PNG or JPEG), the card-face images, or a print sheet",
		Long: `Read the card face and export its pictures. The photo is stored on the card as
JPEG 2000, which most viewers cannot open: it is decoded (pure Go, no cgo) and
written as PNG (default, the card's pixels) or JPEG. With --all DIR every
card-face picture is written to DIR — the photo, and the name, address,
My Number and security-code images exactly as stored (PNG) — with index.json.
With --print FILE an HTML sheet with the photo and the verified facts is
written for the counter's paper record.

A picture is exported only when the J-LIS signature covering it verified: the
photo and the name and address images are covered by the card-face signature,
the My Number image by its own record's signature, and the security-code image
by none (nor is the expiry date) — it, and anything whose signature failed,
needs --unverified. A photo whose signature did not verify is never decoded:
with --unverified it is written exactly as stored (JPEG 2000, photo.jp2), and
the print sheet leaves it out. Every file is written with mode 0600.

Exit status: 0 written, 1 the card is not genuine (nothing unverified is
written without --unverified), 3 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pf := face.PhotoFormat(format)
			if pf != face.PhotoPNG && pf != face.PhotoJPEG {
				return fail(fmt.Errorf("--format %q: want png or jpeg", format))
			}
			ctx := cmd.Context()
			card, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer card.Close()
			parts := []mynakit.Part{mynakit.PartSurface}
			if all != "" || printOut != "" {
				parts = append(parts, mynakit.PartText)
			}
			r, err := card.Read(ctx, mynakit.ReadOptions{Parts: parts, Photo: printOut != "", MyNumberImage: all != ""})
			if err != nil {
				return fail(err)
			}
			if r.Surface == nil {
				return fail(fmt.Errorf("the card face could not be read"))
			}
			opts := face.ExportOptions{PhotoFormat: pf, Unverified: unverified}
			switch {
			case printOut != "":
				if err := writeSheet(printOut, r); err != nil {
					return fail(err)
				}
				fmt.Fprintf(a.err, "wrote %s\n", printOut)
			case all != "":
				if err := exportAll(a, all, r, opts); err != nil {
					return fail(err)
				}
			default:
				opts.Parts = []face.Part{face.PartPhoto}
				ex, err := face.Exports(r.FaceImages(), r.Checks, opts)
				if err != nil {
					return fail(err)
				}
				if out == "" {
					out = ex[0].Filename
				}
				if !ex[0].Verified {
					fmt.Fprintln(a.err, "the photo's signature did not verify: written as stored (JPEG 2000), not decoded")
				}
				if err := atomicfile.WriteFile(out, ex[0].Data, atomicfile.Private); err != nil {
					return fail(err)
				}
				fmt.Fprintf(a.err, "wrote %s\n", out)
			}
			fmt.Fprintln(a.out, verdictLine(r.Verdict, r.Checks))
			return exitFor(r.Verdict)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&out, "out", "", "write the photo to this file (default photo.png or photo.jpg)")
	fl.StringVar(&format, "format", "png", "photo format: png or jpeg")
	fl.StringVar(&all, "all", "", "write every card-face picture and index.json to this directory")
	fl.StringVar(&printOut, "print", "", "write an HTML sheet with the photo and the verified facts to this file")
	fl.BoolVar(&unverified, "unverified", false, "also export pictures no verified signature covers (marked so in index.json)")
	return cmd
}

// exportAll writes every card-face picture the signatures allow, and an
// index saying which signature covers each.
func exportAll(a *app, dir string, r *mynakit.Report, opts face.ExportOptions) error {
	opts.Parts = face.Exportable(r.FaceImages(), opts.Unverified)
	ex, err := face.Exports(r.FaceImages(), r.Checks, opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, e := range ex {
		if err := atomicfile.WriteFile(filepath.Join(dir, e.Filename), e.Data, atomicfile.Private); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(face.NewIndex(ex, r.Verdict), "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "index.json"), append(b, '\n'), atomicfile.Private); err != nil {
		return err
	}
	fmt.Fprintf(a.err, "wrote %d pictures and index.json to %s\n", len(ex), dir)
	return nil
}

// writeSheet writes the counter's paper record: the photo and the facts
// the verdict covers, the unsigned expiry labelled so.
func writeSheet(path string, r *mynakit.Report) error {
	face0, _ := r.Check(trust.CheckSurfaceFace)
	sheet := face.Sheet{PhotoVerified: face0.Result == trust.Pass, Checked: time.Now(), Verdict: verdictLine(r.Verdict, r.Checks)}
	if r.Surface.PhotoImage != nil {
		sheet.Photo = r.Surface.PhotoImage
	} else if r.Surface.PhotoError != "" {
		sheet.Notes = append(sheet.Notes, "顔写真は表示していません / the photo is not shown: "+r.Surface.PhotoError)
	}
	add := func(l, v string) { sheet.Facts = append(sheet.Facts, face.Fact{Label: l, Value: v}) }
	if t := r.Text; t != nil {
		add("氏名 Name", t.Name)
		add("住所 Address", t.Address)
		add("生年月日 Birth date", birthLabel(t.BirthDate))
		add("性別 Sex", fmt.Sprintf("%s (%s)", t.Sex.Japanese(), t.Sex))
	} else {
		add("生年月日 Birth date", birthLabel(r.Surface.BirthDate))
	}
	add("有効期限 Card expiry (署名なし unsigned)", r.Surface.ExpiryDate.String())
	for _, c := range r.Failed() {
		sheet.Notes = append(sheet.Notes, fmt.Sprintf("%s: %s — %s", c.Name, strings.ToUpper(string(c.Result)), c.Detail))
	}
	sheet.Notes = append(sheet.Notes, "有効期限とセキュリティコードは J-LIS の署名対象外です / the expiry date and the security code are not covered by J-LIS's signature")
	var b bytes.Buffer
	if err := face.WriteSheet(&b, sheet); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b.Bytes(), atomicfile.Private)
}
