package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/present"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/trust"
)

func init() { register(newPDFCmd) }

func newPDFCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pdf",
		Short: "Sign PDFs with the card (PAdES) and verify signed PDFs",
	}
	cmd.AddCommand(newPDFSignCmd(a), newPDFVerifyCmd(a))
	return cmd
}

// readPDF reads a PDF, refusing files larger than pdfsig.MaxFileSize
// before reading them, into one buffer of the file's size.
func readPDF(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > pdfsig.MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, pdfsig.MaxFileSize>>20)
	}
	var b []byte
	if fi.Mode().IsRegular() {
		b, err = os.ReadFile(path)
	} else { // a pipe or a device: no size to trust
		var f *os.File
		if f, err = os.Open(path); err == nil {
			b, err = io.ReadAll(io.LimitReader(f, pdfsig.MaxFileSize+1))
			f.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	if len(b) > pdfsig.MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, pdfsig.MaxFileSize>>20)
	}
	return b, nil
}

// parsePlacement reads PAGE:x,y,w,h.
func parsePlacement(s string) (*pdfsig.Placement, error) {
	page, rect, ok := strings.Cut(s, ":")
	nums := strings.Split(rect, ",")
	bad := errors.New("--visible wants PAGE:x,y,w,h (page from 1, points from the lower left corner), e.g. 1:72,72,200,60")
	if !ok || len(nums) != 4 {
		return nil, bad
	}
	p := &pdfsig.Placement{}
	var err error
	if p.Page, err = strconv.Atoi(page); err != nil {
		return nil, bad
	}
	v := make([]float64, 4)
	for i, n := range nums {
		if v[i], err = strconv.ParseFloat(strings.TrimSpace(n), 64); err != nil {
			return nil, bad
		}
	}
	p.X, p.Y, p.W, p.H = v[0], v[1], v[2], v[3]
	return p, nil
}

func newPDFSignCmd(a *app) *cobra.Command {
	var out, tsa, visible, reason, location, field string
	var crls []string
	cmd := &cobra.Command{
		Use:   "sign IN.pdf",
		Short: "Sign a PDF with the card's signing key (PAdES baseline, ETSI.CAdES.detached)",
		Long: `Sign IN.pdf with the card's 署名用 key as a PAdES baseline signature
(ETSI EN 319 142-1, /SubFilter /ETSI.CAdES.detached): an incremental update,
so the original bytes stay unchanged at the start of the output. Asks for the
signing password once.

  B-B   always: content-type, message-digest and signing-certificate-v2
        signed attributes; the claimed time is /M (no signing-time).
  B-T   with --tsa URL: an RFC 3161 signature timestamp, asked for after the
        card has signed.
  B-LT  with --crl FILE: a document security store (DSS) with the
        certificates and CRLs, in a second incremental update.

The signature field is invisible unless --visible PAGE:x,y,w,h places a stamp
with the holder's name and the time. --field NAME signs an existing empty
signature field, or names the new one. Encrypted PDFs are refused.

The output holds the signing certificate, which names the holder (name,
address, birth date): it is written with mode 0600.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := readPDF(args[0])
			if err != nil {
				return fail(err)
			}
			opts := pdfsig.SignOptions{Reason: reason, Location: location, Field: field}
			if visible != "" {
				if opts.Visible, err = parsePlacement(visible); err != nil {
					return fail(err)
				}
			}
			for _, p := range crls {
				crl, err := trust.LoadCRL(p)
				if err != nil {
					return fail(err)
				}
				opts.CRLs = append(opts.CRLs, crl.Raw)
			}
			// Refuse an unreadable or encrypted file before the card asks
			// for the password.
			if _, err := pdfsig.Parse(src); err != nil {
				return fail(err)
			}
			if out == "" {
				out = strings.TrimSuffix(args[0], ".pdf") + "-signed.pdf"
			}
			ctx := cmd.Context()
			card, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer card.Close()
			signer, cert, ca, err := card.SigningKey(ctx)
			if err != nil {
				return fail(err)
			}
			if tsa != "" {
				opts.Timestamper = jpki.HTTPTimestamper(ctx, tsa)
			}
			signed, err := pdfsig.Sign(src, signer, cert, []*x509.Certificate{ca}, opts)
			if err != nil {
				return fail(err)
			}
			if err := atomicfile.WriteFile(out, signed, atomicfile.Private); err != nil {
				return fail(err)
			}
			level := "B-B"
			switch {
			case len(opts.CRLs) > 0 && tsa != "":
				level = "B-LT"
			case len(opts.CRLs) > 0:
				level = "B-B with DSS"
			case tsa != "":
				level = "B-T"
			}
			fmt.Fprintf(a.out, "signed %s -> %s (PAdES %s, %d bytes added)\n", args[0], out, level, len(signed)-len(src))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "signed PDF (default IN-signed.pdf)")
	f.StringVar(&tsa, "tsa", "", "URL of an RFC 3161 time-stamping authority (PAdES B-T)")
	f.StringArrayVar(&crls, "crl", nil, "CRL (DER or PEM) to store in the document security store (PAdES B-LT); repeatable")
	f.StringVar(&visible, "visible", "", "visible stamp: PAGE:x,y,w,h in points, e.g. 1:72,72,200,60")
	f.StringVar(&reason, "reason", "", "reason for signing (/Reason)")
	f.StringVar(&location, "location", "", "place of signing (/Location)")
	f.StringVar(&field, "field", "", "existing empty signature field to sign, or the new field's name")
	return cmd
}

func newPDFVerifyCmd(a *app) *cobra.Command {
	var asJSON bool
	var crlPath string
	var tsaRoots []string
	cmd := &cobra.Command{
		Use:   "verify FILE.pdf",
		Short: "Verify every signature in a PDF, its certificate chain and what was changed after it",
		Long: `Check every signature dictionary in FILE.pdf, in order:

  - the byte range starts at 0, its hole is exactly the /Contents string,
    and it covers the whole revision it signs;
  - the CMS: the message digest of the byte ranges, the signature, the
    signing-certificate-v2 attribute, the signer by issuer and serial or key ID;
  - the certificate chains to a J-LIS signing (署名用) anchor, with
    nonRepudiation and not a CA, valid now or at a trusted timestamp's time
    (--tsa-root); never at /M, the time the signer claims; --crl when given;
  - what each later revision changed: more signatures, validation data (DSS)
    and form fill where the document's permissions allow pass; anything else
    (e.g. replaced page content) fails the verdict.

Exit status: 0 genuine, 1 not genuine, 2 unknown, 3 the file cannot be read as
a PDF (malformed, truncated, encrypted), 4 genuine but expired or revoked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readPDF(args[0])
			if err != nil {
				return fail(err)
			}
			var test mynakit.TestAnchorProvider
			if a.simulated() {
				test = simulator.TestHierarchy{}
			}
			store, err := mynakit.NewTrustStore(a.trustDirs, test)
			if err != nil {
				return fail(err)
			}
			opts := pdfsig.VerifyOptions{Store: store}
			if opts.CRL, opts.TSARoots, err = loadRevocationAndTime(crlPath, tsaRoots); err != nil {
				return fail(err)
			}
			res, err := pdfsig.Verify(data, opts)
			if err != nil {
				return fail(err)
			}
			if asJSON {
				if err := writeJSON(a, present.PDFOf(res)); err != nil {
					return err
				}
				return exitFor(res.Verdict)
			}
			fmt.Fprintf(a.out, "ファイル File: %s (%d bytes, %d revisions, %d signatures)\n", safe(args[0]), res.Size, len(res.Revisions), len(res.Signatures))
			for i, s := range res.Signatures {
				fmt.Fprintf(a.out, "\n署名 %d Signature %d: field %q, object %d, /SubFilter /%s\n", i+1, i+1, safe(s.Field), s.Object, safe(s.SubFilter))
				if s.Signer != nil {
					fmt.Fprintf(a.out, "署名者 Signer: %s\n", safe(s.Signer.Subject.String()))
					if n := present.HolderName(s.Signer); n != "" {
						fmt.Fprintf(a.out, "氏名 Name: %s\n", safe(n))
					}
				}
				if len(s.ByteRange) == 4 {
					fmt.Fprintf(a.out, "範囲 Byte range: %v: bytes 0-%d of %d, all but the %d-byte /Contents string\n", s.ByteRange, s.Revision, res.Size, s.ByteRange[2]-s.ByteRange[1])
				}
				if s.ClaimedTime != "" {
					fmt.Fprintf(a.out, "署名日時 Claimed time (/M): %s (as the signer wrote it; not trusted)\n", safe(s.ClaimedTime))
				}
				if !s.Timestamp.IsZero() {
					fmt.Fprintf(a.out, "タイムスタンプ Timestamp: %s (trusted)\n", s.Timestamp.UTC().Format("2006-01-02 15:04:05 UTC"))
				} else if s.TimestampNote != "" {
					fmt.Fprintf(a.out, "タイムスタンプ Timestamp: not used — %s\n", safe(s.TimestampNote))
				}
				fmt.Fprintf(a.out, "判定時刻 Judged at: %s\n", s.JudgedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
				for _, c := range s.Changes {
					mark := "allowed"
					if !c.Allowed {
						mark = "NOT ALLOWED"
					}
					fmt.Fprintf(a.out, "  later change, revision ending at %d: %s (%s)\n", c.Revision, safe(c.What), mark)
				}
				printChecks(a, s.Checks)
				fmt.Fprintln(a.out, strings.TrimSpace(verdictLine(s.Verdict, s.Checks)))
			}
			fmt.Fprintln(a.out)
			if len(res.Signatures) == 0 {
				printChecks(a, res.Checks)
			}
			fmt.Fprintln(a.out, "文書 Document: "+strings.TrimSpace(verdictLine(res.Verdict, res.Checks)))
			return exitFor(res.Verdict)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&crlPath, "crl", "", "check the signers' certificates against this CRL (DER or PEM)")
	cmd.Flags().StringArrayVar(&tsaRoots, "tsa-root", nil, "PEM file of a trusted RFC 3161 time-stamping authority root; repeatable")
	return cmd
}
