package mynakit

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/cardimage"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// DumpOptions says what a dump includes.
type DumpOptions struct {
	// SignCert includes the signing certificate (asks for the signing
	// password).
	SignCert bool
	// Progress, when set, is told each applet as the dump reaches it.
	Progress func(step string)
}

// dumpFiles are the EFs a dump reads per applet (docs/card.md §2).
func dumpFiles(a myna.Applet) []uint16 {
	switch a {
	case myna.JPKI:
		return []uint16{myna.JPKISignCert, myna.JPKISignCACert, myna.JPKIToken, myna.JPKICertPresent, myna.JPKIAuthCert, myna.JPKIAuthCACert}
	case myna.Text:
		return []uint16{myna.TextMyNumber, myna.TextAttributes, myna.TextIntegrity, myna.TextCVCert, myna.TextBasicInfo, myna.TextSMKey, myna.TextSignedKey}
	case myna.Surface:
		return []uint16{myna.SurfaceFace, myna.SurfaceBasicInfo, myna.SurfaceCVCert, myna.SurfaceMyNumberImg}
	}
	return nil
}

// dumpRecords are the record EFs.
func dumpRecords(a myna.Applet) []uint16 {
	switch a {
	case myna.Common:
		return []uint16{myna.CommonInfo, myna.CommonKeyRef}
	case myna.Juki:
		return []uint16{myna.JukiKeyRef}
	}
	return nil
}

// dumpGetData are the MF-level GET DATA tags (docs/card.md §2.6).
func dumpGetData() []uint16 {
	return []uint16{0x0042, 0x0045, 0x0066, 0x00F0, 0x00F2, 0x00F7, 0x00F8, 0x7F21, 0x5F51}
}

// Dump reads every file, record and MF-level data object the card lets the
// session read into a card image ("mynakit-card-image/1"). Key EFs are
// listed with their tries left but no value, and no private key is
// included: a simulator running the dump refuses to sign, as a card
// without its keys would. The image holds the My Number: keep it safe.
func (c *Card) Dump(ctx context.Context, opts DumpOptions) (*cardimage.Image, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	atr := c.atr
	if len(atr) < 2 {
		atr = []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}
	}
	img := &cardimage.Image{Format: cardimage.ImageFormat, ATR: append(cardimage.HexBytes(nil), atr...), Applets: map[string]*cardimage.Applet{}}
	err := c.do(ctx, func(ctx context.Context) error {
		sess := c.sess
		progress("MF data objects")
		if err := sess.EnterMF(ctx); err == nil {
			for _, tag := range dumpGetData() {
				v, err := sess.GetData(ctx, tag)
				if err == nil {
					if img.GetData == nil {
						img.GetData = map[string]cardimage.HexBytes{}
					}
					img.GetData[cardimage.FIDString(tag)] = v
				} else if !apdu.Answered(err) {
					return err
				}
			}
		} else if !apdu.Answered(err) {
			return err
		}
		status := map[myna.KeyName]pin.KeyStatus{}
		for _, ap := range myna.AllApplets() {
			progress(ap.JapaneseName())
			if err := sess.Select(ctx, ap); err != nil {
				if errors.Is(err, apdu.ErrFileNotFound) {
					continue
				}
				return err
			}
			out := &cardimage.Applet{Files: map[string]*cardimage.File{}, Keys: map[string]*cardimage.Key{}}
			for _, fid := range dumpFiles(ap) {
				if ap == myna.JPKI && fid == myna.JPKISignCert && !opts.SignCert {
					continue
				}
				openers, _ := myna.Openers(ap, fid)
				if err := sess.Open(ctx, ap, fid); err != nil {
					if errors.Is(err, pin.ErrNoSecret) || errors.Is(err, pin.ErrKeyBlocked) || errors.Is(err, pin.ErrWouldBlock) {
						continue // not readable with what we may use
					}
					return err
				}
				data, err := sess.ReadPhysical(ctx, ap, fid, 0x7FFF)
				if errors.Is(err, apdu.ErrFileNotFound) || errors.Is(err, apdu.ErrSecurityStatus) {
					continue
				}
				if err != nil {
					return err
				}
				out.Files[cardimage.FIDString(fid)] = &cardimage.File{Data: data, Access: cardimage.AccessString(openers)}
			}
			if ap == myna.Text {
				learnFromDump(sess, out)
			}
			for _, fid := range dumpRecords(ap) {
				var recs []cardimage.HexBytes
				for n := 1; n < 255; n++ {
					r, err := sess.ReadRecord(ctx, ap, fid, n)
					if err != nil {
						if !apdu.Answered(err) {
							return err
						}
						break
					}
					recs = append(recs, r)
				}
				if len(recs) > 0 {
					out.Files[cardimage.FIDString(fid)] = &cardimage.File{Records: recs, Access: "none"}
				}
			}
			img.Applets[hex.EncodeToString(ap.AID())] = out
		}
		// Keys: tries left, no value (a query uses no try).
		st, err := sess.Status(ctx)
		if err != nil {
			return err
		}
		for _, k := range st {
			status[k.Name] = k
		}
		for _, k := range myna.AllKeys() {
			ap := img.Applets[hex.EncodeToString(k.Applet.AID())]
			s, ok := status[k.Name]
			if ap == nil || !ok {
				continue
			}
			ap.Keys[cardimage.FIDString(k.FID)] = &cardimage.Key{Remaining: s.Remaining, Max: s.Max}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Access conditions may name keys the dump could not see; keep the
	// image valid by listing them without tries.
	for _, ap := range img.Applets {
		for _, f := range ap.Files {
			keys, _ := cardimage.ParseAccess(f.Access)
			for _, k := range keys {
				if ap.Keys[cardimage.FIDString(k)] == nil {
					ap.Keys[cardimage.FIDString(k)] = &cardimage.Key{}
				}
			}
		}
	}
	return img, img.Validate()
}

// learnFromDump gives the session the My Number (照合番号A) and the birth
// key from the text applet's files just dumped, when they match the
// applet's signed integrity record, so the card face opens without another
// prompt.
func learnFromDump(sess *pin.Session, ap *cardimage.Applet) {
	obj := func(fid uint16) []byte {
		f := ap.Files[cardimage.FIDString(fid)]
		if f == nil {
			return nil
		}
		tlv, _, err := tlv.Parse(f.Data)
		if err != nil {
			return nil
		}
		return tlv.Raw
	}
	var my []byte
	if f := ap.Files[cardimage.FIDString(myna.TextMyNumber)]; f != nil {
		my = f.Data
	}
	raw := cardap.TextRaw{MyNumberEF: my, Attributes: obj(myna.TextAttributes), Integrity: obj(myna.TextIntegrity), CVCert: obj(myna.TextCVCert)}
	t, _ := cardap.VerifyText(raw, &trust.Store{})
	if mn, ok := t.VerifiedMyNumber(); ok {
		sess.Learn(myna.CodeA, []byte(mn))
	}
	if k, ok := t.VerifiedBirthKey(); ok {
		sess.Learn(myna.BirthKey, []byte(k))
	}
}
