package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
)

func init() { register(newDumpCmd) }

// dumpFiles are the EFs a dump reads per applet (card reference §2).
var dumpFiles = map[myna.Applet][]uint16{
	myna.JPKI:    {myna.JPKISignCert, myna.JPKISignCACert, myna.JPKIToken, myna.JPKICertPresent, myna.JPKIAuthCert, myna.JPKIAuthCACert},
	myna.Text:    {myna.TextMyNumber, myna.TextAttributes, myna.TextIntegrity, myna.TextCVCert, myna.TextBasicInfo, myna.TextSMKey, myna.TextSignedKey},
	myna.Surface: {myna.SurfaceFace, myna.SurfaceBasicInfo, myna.SurfaceCVCert, myna.SurfaceMyNumberImg},
}

// dumpRecords are the record EFs.
var dumpRecords = map[myna.Applet][]uint16{
	myna.Common: {myna.CommonInfo, myna.CommonKeyRef},
	myna.Juki:   {myna.JukiKeyRef},
}

// dumpGetData are the MF-level GET DATA tags (card reference §2.6).
var dumpGetData = []uint16{0x0042, 0x0045, 0x0066, 0x00F0, 0x00F2, 0x00F7, 0x00F8, 0x7F21, 0x5F51}

func newDumpCmd(a *app) *cobra.Command {
	var out string
	var withSign bool
	cmd := &cobra.Command{
		Use:   "dump",
		Short: "Everything readable, as a card image (no keys) for replay in the simulator",
		Long: `Read every file, record and MF-level data object the card lets you read and
write them as a card image ("mynakit-card-image/1"). Key EFs are listed with
their tries left but no value, and no private key is included: a simulator
running the dump refuses to sign, as a card without its keys would.

The signing certificate needs the signing password; add --sign-cert to
include it. The dump contains the My Number: keep it safe.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var img *simulator.Image
			err := a.withCard(ctx, func(h *cardHandle, sess *pin.Session) error {
				var err error
				img, err = dumpCard(ctx, h, sess, withSign, func(s string) { fmt.Fprintf(a.err, "reading %s ...\n", s) })
				return err
			})
			if err != nil {
				return err
			}
			b, err := img.Marshal()
			if err != nil {
				return err
			}
			if out == "" {
				_, err = fmt.Fprintln(a.out, string(b))
				return err
			}
			if err := os.WriteFile(out, append(b, '\n'), 0o600); err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			fmt.Fprintf(a.err, "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the image to this file (mode 0600) instead of standard output")
	cmd.Flags().BoolVar(&withSign, "sign-cert", false, "include the signing certificate (asks for the signing password)")
	return cmd
}

// dumpCard reads the card into an image without keys.
func dumpCard(ctx context.Context, h *cardHandle, sess *pin.Session, withSign bool, progress func(string)) (*simulator.Image, error) {
	card := h.Card
	img := &simulator.Image{Format: simulator.ImageFormat, ATR: h.ATR, Applets: map[string]*simulator.Applet{}}
	if len(img.ATR) < 2 {
		img.ATR = simulator.HexBytes{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}
	}
	// MF-level objects first, in the power-on state.
	progress("MF data objects")
	if err := card.SelectAID(ctx, myna.ISDAID); err == nil {
		for _, tag := range dumpGetData {
			if v, err := card.GetData(ctx, tag); err == nil {
				if img.GetData == nil {
					img.GetData = map[string]simulator.HexBytes{}
				}
				img.GetData[simulator.FIDString(tag)] = v
			} else if errors.Is(err, apdu.ErrCardRemoved) {
				return nil, err
			}
		}
	}
	for _, ap := range myna.Applets {
		progress(ap.JapaneseName())
		if err := sess.Select(ctx, ap); err != nil {
			if errors.Is(err, apdu.ErrFileNotFound) {
				continue
			}
			return nil, err
		}
		out := &simulator.Applet{Files: map[string]*simulator.File{}, Keys: map[string]*simulator.Key{}}
		for _, fid := range dumpFiles[ap] {
			if ap == myna.JPKI && fid == myna.JPKISignCert && !withSign {
				continue
			}
			openers, _ := myna.Openers(ap, fid)
			if err := sess.Open(ctx, ap, fid); err != nil {
				if errors.Is(err, pin.ErrNoSecret) || errors.Is(err, pin.ErrKeyBlocked) || errors.Is(err, pin.ErrWouldBlock) {
					continue // not readable with what we may use
				}
				return nil, err
			}
			data, err := card.ReadPhysical(ctx, fid, 0x7FFF)
			if errors.Is(err, apdu.ErrFileNotFound) || errors.Is(err, apdu.ErrSecurityStatus) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out.Files[simulator.FIDString(fid)] = &simulator.File{Data: data, Access: simulator.AccessString(openers)}
		}
		for _, fid := range dumpRecords[ap] {
			var recs []simulator.HexBytes
			for n := 1; n < 255; n++ {
				r, err := card.ReadRecord(ctx, byte(fid), n)
				if err != nil {
					break
				}
				recs = append(recs, r)
			}
			if len(recs) > 0 {
				out.Files[simulator.FIDString(fid)] = &simulator.File{Records: recs, Access: "none"}
			}
		}
		// Keys: tries left, no value (a query uses no try).
		if err := sess.Select(ctx, ap); err != nil {
			return nil, err
		}
		for _, k := range myna.Keys {
			if k.Applet != ap {
				continue
			}
			left, verified, err := card.VerifyStatus(ctx, apdu.KeySFI(k.FID))
			if err != nil {
				continue
			}
			max := max(pin.MaxTries[k.Name], left)
			if max == 0 {
				max = left
			}
			if verified {
				left = max
			}
			out.Keys[simulator.FIDString(k.FID)] = &simulator.Key{Remaining: left, Max: max}
		}
		img.Applets[hex.EncodeToString(ap.AID())] = out
	}
	// Access conditions may name keys the dump could not see; keep the
	// image valid by listing them without tries.
	for _, ap := range img.Applets {
		for _, f := range ap.Files {
			keys, _ := simulator.ParseAccess(f.Access)
			for _, k := range keys {
				if ap.Keys[simulator.FIDString(k)] == nil {
					ap.Keys[simulator.FIDString(k)] = &simulator.Key{}
				}
			}
		}
	}
	return img, img.Validate()
}
