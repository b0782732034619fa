package cardap

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
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
	AgeRecord     []byte // EF 0001 object (optional; needs the 生年月日 key)
	MyNumberImage []byte // EF 0005 object (optional; needs 照合番号A)
}

// Surface is the card face as the chip holds it.
type Surface struct {
	BirthDate  string `json:"birth_date"`  // YYYY-MM-DD
	Sex        Sex    `json:"sex"`         //
	ExpiryDate string `json:"expiry_date"` // YYYY-MM-DD; not covered by the signature
	// AgeBirthDate is the birth date of the age-verification record (EF
	// 0001 DF11), when it was read.
	AgeBirthDate string `json:"age_birth_date,omitempty"`
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
	age    *signedRecord
	mnImg  *signedRecord
}

// signedRecord is one of the applet's records of the form
// outer { x1 data ; x2 card public key ; x3 signature over x1 TLV ‖ x2 TLV }
// (EF 0001 FF10{DF11,DF12,DF13}, EF 0005 FF40{DF41,DF42,DF43}; card reference §5.7).
type signedRecord struct {
	fields [2]apdu.TLV // as stored
	signed []byte      // fields[0].Raw ‖ fields[1].Raw
	sig    []byte
}

func parseSignedRecord(b []byte, outer, first uint32, what string) (*signedRecord, error) {
	rec, _, err := apdu.ParseTLV(b)
	if err != nil || rec.Tag != outer {
		return nil, fmt.Errorf("%s: want %X: %w", what, outer, apdu.ErrMalformed)
	}
	kk, err := rec.Children()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	d, ok1 := apdu.FindTLV(kk, first)
	k, ok2 := apdu.FindTLV(kk, first+1)
	sig, ok3 := apdu.FindTLV(kk, first+2)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%s: want %X, %X, %X: %w", what, first, first+1, first+2, apdu.ErrMalformed)
	}
	if _, err := ParseRSAPublicKey(k.Value); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &signedRecord{fields: [2]apdu.TLV{d, k}, signed: append(append([]byte(nil), d.Raw...), k.Raw...), sig: sig.Value}, nil
}

// SurfaceOptions chooses the optional files.
type SurfaceOptions struct {
	AgeRecord     bool // read EF 0001 (the 生年月日 key, which the session derives from 照合番号B)
	MyNumberImage bool // read EF 0005 (照合番号A only)
}

// ReadSurface reads the 券面事項確認AP with the session (照合番号A, which the
// session derives from the text applet, or 照合番号B).
func ReadSurface(ctx context.Context, sess *pin.Session, opts SurfaceOptions) (*Surface, error) {
	var raw SurfaceRaw
	card := sess.Card()
	type file struct {
		fid uint16
		dst *[]byte
	}
	files := []file{{myna.SurfaceFace, &raw.Face}, {myna.SurfaceCVCert, &raw.CVCert}, {myna.SurfaceBasicInfo, &raw.BasicInfo}}
	if opts.AgeRecord {
		files = append(files, file{myna.SurfaceAgeRecord, &raw.AgeRecord})
	}
	if opts.MyNumberImage {
		files = append(files, file{myna.SurfaceMyNumberImg, &raw.MyNumberImage})
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
	if len(raw.AgeRecord) > 0 {
		rec, err := parseSignedRecord(raw.AgeRecord, 0xFF10, 0xDF11, "age-verification record")
		if err != nil {
			return nil, err
		}
		if s.AgeBirthDate, err = isoDate(rec.fields[0].Value); err != nil {
			return nil, fmt.Errorf("age-verification record birth date: %w", err)
		}
		s.age = rec
	}
	if len(raw.MyNumberImage) > 0 {
		rec, err := parseSignedRecord(raw.MyNumberImage, 0xFF40, 0xDF41, "個人番号 image file")
		if err != nil {
			return nil, err
		}
		s.MyNumberImage = rec.fields[0].Value
		s.mnImg = rec
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
	cvCheck := s.cv.Verify(store, trust.RoleSurface, trust.CheckSurfaceCV)
	checks := []trust.Check{cvCheck}
	di := append([]byte(nil), faceDigestInfoPrefix...)
	for _, g := range s.groups {
		sum := sha256.Sum256(g)
		di = append(di, sum[:]...)
	}
	ch := trust.Check{Name: trust.CheckSurfaceFace, Anchor: cvCheck.Anchor, Production: cvCheck.Production}
	if err := rsa.VerifyPKCS1v15(s.cv.PublicKey, crypto.Hash(0), di, s.sig); err != nil {
		ch.Result = trust.Fail
		ch.Detail = "card face (birth date, sex, key, name and address images, photo) does not match its J-LIS signature"
	} else {
		ch = passUnder(ch, cvCheck, "birth date, sex, card key, name and address images and photo match the J-LIS signature")
	}
	checks = append(checks, ch)
	if s.age != nil {
		checks = append(checks, recordCheck(trust.CheckSurfaceAge, s.cv, cvCheck, s.age.signed, s.age.sig, "age-verification record"))
	}
	if s.mnImg != nil {
		checks = append(checks, recordCheck(trust.CheckSurfaceMyNumberImage, s.cv, cvCheck, s.mnImg.signed, s.mnImg.sig, "個人番号 image"))
	}
	return checks
}

// CV is the applet's card-verifiable certificate.
func (s *Surface) CV() *CVCertificate { return s.cv }
