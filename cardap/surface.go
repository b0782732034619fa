package cardap

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// SurfaceRaw is what the 券面事項確認AP returned, byte for byte.
type SurfaceRaw struct {
	Face          []byte // EF 0002 object
	CVCert        []byte // EF 0004 object
	BasicInfo     []byte // EF 0003 object (optional)
	MyNumberImage []byte // EF 0005 object (optional; needs 照合番号A)
}

// Surface is the card face as the chip holds it.
type Surface struct {
	BirthDate  string `json:"birth_date"`  // YYYY-MM-DD
	Sex        Sex    `json:"sex"`         //
	ExpiryDate string `json:"expiry_date"` // YYYY-MM-DD; not covered by the signature
	// MunicipalityCode is from EF 0003 DF34 when read (unsigned).
	MunicipalityCode string `json:"municipality_code,omitempty"`

	CardKey           *rsa.PublicKey `json:"-"` // the card's own key (DF24), for the presence proof
	NameImage         []byte         `json:"-"` // PNG
	AddressImage      []byte         `json:"-"` // PNG
	Photo             []byte         `json:"-"` // JPEG 2000 (JP2)
	SecurityCodeImage []byte         `json:"-"` // PNG; not covered by the signature
	MyNumberImage     []byte         `json:"-"` // PNG, when EF 0005 was read

	Raw SurfaceRaw `json:"-"`

	groups [3][]byte // H1, H2, H3 inputs (TLVs as stored)
	sig    []byte    // DF28
	cv     *CVCertificate
	mnImg  *signedRecord
}

type signedRecord struct {
	signed []byte
	sig    []byte
}

// SurfaceOptions chooses the optional files.
type SurfaceOptions struct {
	MyNumberImage bool // read EF 0005 (照合番号A only)
}

// ReadSurface reads the 券面事項確認AP with the session (照合番号A, which the
// session derives from the text applet, or 照合番号B).
func ReadSurface(ctx context.Context, sess *pin.Session, opts SurfaceOptions) (*Surface, error) {
	var raw SurfaceRaw
	card := sess.Card()
	files := []struct {
		fid uint16
		dst *[]byte
	}{{myna.SurfaceFace, &raw.Face}, {myna.SurfaceCVCert, &raw.CVCert}, {myna.SurfaceBasicInfo, &raw.BasicInfo}}
	if opts.MyNumberImage {
		files = append(files, struct {
			fid uint16
			dst *[]byte
		}{myna.SurfaceMyNumberImg, &raw.MyNumberImage})
	}
	for _, f := range files {
		if err := sess.Open(ctx, myna.Surface, f.fid); err != nil {
			return nil, err
		}
		b, err := card.ReadObject(ctx, f.fid)
		if err != nil {
			return nil, fmt.Errorf("券面事項確認AP: %w", err)
		}
		*f.dst = b
	}
	return ParseSurface(raw)
}

// faceTags are the card-face fields in their fixed order (card reference §2.3).
var faceTags = []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27, 0xDF28, 0xDF29, 0xDF2A}

// ParseSurface decodes the applet's files.
func ParseSurface(raw SurfaceRaw) (*Surface, error) {
	s := &Surface{Raw: raw}
	face, _, err := apdu.ParseTLV(raw.Face)
	if err != nil || face.Tag != 0xFF20 {
		return nil, fmt.Errorf("card face file: want FF20: %w", apdu.ErrMalformed)
	}
	kids, err := face.Children()
	if err != nil {
		return nil, fmt.Errorf("card face file: %w", err)
	}
	f := map[uint32]apdu.TLV{}
	for _, tag := range faceTags {
		v, ok := apdu.FindTLV(kids, tag)
		if !ok {
			return nil, fmt.Errorf("card face file: no %X: %w", tag, apdu.ErrMalformed)
		}
		f[tag] = v
	}
	if s.BirthDate, err = isoDate(f[0xDF22].Value); err != nil {
		return nil, fmt.Errorf("card face birth date: %w", err)
	}
	s.Sex = ParseSex(string(f[0xDF23].Value))
	if s.CardKey, err = ParseRSAPublicKey(f[0xDF24].Value); err != nil {
		return nil, fmt.Errorf("card face key: %w", err)
	}
	s.NameImage, s.AddressImage, s.Photo = f[0xDF25].Value, f[0xDF26].Value, f[0xDF27].Value
	s.sig = f[0xDF28].Value
	if s.ExpiryDate, err = isoDate(f[0xDF29].Value); err != nil {
		return nil, fmt.Errorf("card face expiry date: %w", err)
	}
	s.SecurityCodeImage = f[0xDF2A].Value
	cat := func(tags ...uint32) []byte {
		var b []byte
		for _, t := range tags {
			b = append(b, f[t].Raw...)
		}
		return b
	}
	s.groups = [3][]byte{cat(0xDF22, 0xDF23, 0xDF24), cat(0xDF25, 0xDF26), cat(0xDF27)}

	if s.cv, err = ParseCVCertificate(raw.CVCert); err != nil {
		return nil, fmt.Errorf("券面事項確認AP: %w", err)
	}
	if len(raw.BasicInfo) > 0 {
		if bi, _, err := apdu.ParseTLV(raw.BasicInfo); err == nil && bi.Tag == 0xFF30 {
			if kk, err := bi.Children(); err == nil {
				if mc, ok := apdu.FindTLV(kk, 0xDF34); ok {
					s.MunicipalityCode = string(mc.Value)
				}
			}
		}
	}
	if len(raw.MyNumberImage) > 0 {
		rec, _, err := apdu.ParseTLV(raw.MyNumberImage)
		if err != nil || rec.Tag != 0xFF40 {
			return nil, fmt.Errorf("個人番号 image file: want FF40: %w", apdu.ErrMalformed)
		}
		kk, err := rec.Children()
		if err != nil {
			return nil, fmt.Errorf("個人番号 image file: %w", err)
		}
		img, ok1 := apdu.FindTLV(kk, 0xDF41)
		key, ok2 := apdu.FindTLV(kk, 0xDF42)
		sig, ok3 := apdu.FindTLV(kk, 0xDF43)
		if !ok1 || !ok2 || !ok3 {
			return nil, errors.New("個人番号 image file: want DF41, DF42, DF43")
		}
		s.MyNumberImage = img.Value
		s.mnImg = &signedRecord{signed: append(append([]byte(nil), img.Raw...), key.Raw...), sig: sig.Value}
	}
	return s, nil
}

// faceDigestInfoPrefix is the SHA-256 DigestInfo header around the three
// 32-byte digests H1 ‖ H2 ‖ H3 (card reference §5.7).
var faceDigestInfoPrefix = []byte{0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x60}

// Verify checks the card face against store: the CV certificate, the
// signature over the three digests (birth date/sex/key, name/address
// images, photo) and, when read, the signed 個人番号 image. The expiry date
// and the security-code image are not signed by J-LIS.
func (s *Surface) Verify(store *trust.Store) []trust.Check {
	cvCheck := s.cv.Verify(store, "surface:cv-certificate")
	checks := []trust.Check{cvCheck}
	di := append([]byte(nil), faceDigestInfoPrefix...)
	for _, g := range s.groups {
		sum := sha256.Sum256(g)
		di = append(di, sum[:]...)
	}
	ch := trust.Check{Name: "surface:face-signature", Anchor: cvCheck.Anchor}
	if err := rsa.VerifyPKCS1v15(s.cv.PublicKey, crypto.Hash(0), di, s.sig); err != nil {
		ch.Result = trust.Fail
		ch.Detail = "card face (birth date, sex, key, name and address images, photo) does not match its J-LIS signature"
	} else {
		ch = passUnder(ch, cvCheck, "birth date, sex, card key, name and address images and photo match the J-LIS signature")
	}
	checks = append(checks, ch)
	if s.mnImg != nil {
		checks = append(checks, recordCheck("surface:my-number-image-signature", s.cv, cvCheck, s.mnImg.signed, s.mnImg.sig, "個人番号 image"))
	}
	return checks
}

// CV is the applet's card-verifiable certificate.
func (s *Surface) CV() *CVCertificate { return s.cv }
