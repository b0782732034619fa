package cardap

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// SurfaceRaw is what the 券面事項確認AP returned, byte for byte. A nil file
// was not read.
type SurfaceRaw struct {
	Face          []byte // EF 0002 object
	CVCert        []byte // EF 0004 object
	BasicInfo     []byte // EF 0003 object
	AgeRecord     []byte // EF 0001 object (needs the 生年月日 key)
	MyNumberImage []byte // EF 0005 object (needs 照合番号A)
	CVCached      bool   // CVCert came from a CVCache (see TextRaw)
	Faults        []Fault
}

// SurfaceOptions chooses the optional files.
type SurfaceOptions struct {
	BasicInfo     bool // EF 0003: the municipality code DF34 (unsigned)
	AgeRecord     bool // EF 0001 (the 生年月日 key)
	MyNumberImage bool // EF 0005 (照合番号A only)
	// CVCache, when set, spares reading EF 0004 past its header when it
	// names a certificate the cache holds (see CVCache).
	CVCache *CVCache
}

// ReadSurface reads the 券面事項確認AP through the session: EF 0002 (the
// card face; 照合番号A or 照合番号B) and EF 0004, and the optional files. The
// error is non-nil only when the card could not be asked or a secret was
// refused; files the card answered badly are Faults.
func ReadSurface(ctx context.Context, sess Session, opts SurfaceOptions) (*SurfaceRaw, error) {
	raw := &SurfaceRaw{}
	files := []fileRead{{fid: myna.SurfaceFace, dst: &raw.Face}}
	if opts.BasicInfo {
		files = append(files, fileRead{fid: myna.SurfaceBasicInfo, dst: &raw.BasicInfo})
	}
	if opts.AgeRecord {
		files = append(files, fileRead{fid: myna.SurfaceAgeRecord, dst: &raw.AgeRecord})
	}
	if opts.MyNumberImage {
		files = append(files, fileRead{fid: myna.SurfaceMyNumberImg, dst: &raw.MyNumberImage})
	}
	if err := fetchAll(ctx, sess, myna.Surface, files, &raw.Faults); err != nil {
		return raw, err
	}
	var err error
	raw.CVCert, raw.CVCached, err = readCV(ctx, sess, myna.Surface, opts.CVCache, &raw.Faults)
	return raw, err
}

// Surface is the card face as the chip holds it.
type Surface struct {
	BirthDate myna.Date // signed (DF22)
	Sex       Sex       // signed (DF23)
	// ExpiryDate (DF29) is NOT covered by the card-face signature.
	ExpiryDate myna.Date
	// AgeBirthDate is the birth date of the age-verification record (EF
	// 0001 DF11), when it was read; signed by DF13.
	AgeBirthDate myna.Date
	// MunicipalityCode is EF 0003 DF34, when read; unsigned.
	MunicipalityCode string

	NameImage    []byte // PNG, signed (DF25)
	AddressImage []byte // PNG, signed (DF26)
	Photo        []byte // JPEG 2000 (JP2), signed (DF27)
	// SecurityCodeImage (DF2A) is NOT covered by the card-face signature.
	SecurityCodeImage []byte
	MyNumberImage     []byte // PNG, signed by EF 0005 DF43 when read

	Raw SurfaceRaw

	cv      *CVCertificate
	cardKey *rsa.PublicKey // DF24 when the face signature verified
}

// faceTags are the card-face fields in their fixed order (docs/card.md §2.3).
var faceTags = [...]uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27, 0xDF28, 0xDF29, 0xDF2A}

// faceDigestInfoPrefix is the SHA-256 DigestInfo header around the three
// 32-byte digests H1 ‖ H2 ‖ H3 (docs/card.md §5.7).
var faceDigestInfoPrefix = [...]byte{0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x60}

// signedRecord is one of the applet's records of the form
// outer { x1 data ; x2 card public key ; x3 signature over x1 TLV ‖ x2 TLV }
// (EF 0001 FF10{DF11,DF12,DF13}, EF 0005 FF40{DF41,DF42,DF43}; docs/card.md §5.7).
type signedRecord struct {
	fields [2]tlv.TLV // as stored
	signed []byte     // fields[0].Raw ‖ fields[1].Raw
	sig    []byte
}

func parseSignedRecord(b []byte, outer, first uint32) (*signedRecord, error) {
	rec, _, err := tlv.Parse(b)
	if err != nil || rec.Tag != outer {
		return nil, fmt.Errorf("want an %X object", outer)
	}
	kk, err := rec.Children()
	if err != nil || len(kk) != 3 || kk[0].Tag != first || kk[1].Tag != first+1 || kk[2].Tag != first+2 {
		return nil, fmt.Errorf("want %X, %X and %X", first, first+1, first+2)
	}
	if _, err := ParseRSAPublicKey(kk[1].Value); err != nil {
		return nil, err
	}
	return &signedRecord{fields: [2]tlv.TLV{kk[0], kk[1]}, signed: append(append([]byte(nil), kk[0].Raw...), kk[1].Raw...), sig: kk[2].Value}, nil
}

// ParseAgeRecord parses the age-verification record (EF 0001): its birth
// date TLV DF11, card key TLV DF12 and signature DF13 (docs/card.md §2.3).
func ParseAgeRecord(b []byte) (birthTLV, keyTLV tlv.TLV, sig []byte, err error) {
	rec, err := parseSignedRecord(b, 0xFF10, 0xDF11)
	if err != nil {
		return tlv.TLV{}, tlv.TLV{}, nil, fmt.Errorf("age-verification record: %w", err)
	}
	return rec.fields[0], rec.fields[1], rec.sig, nil
}

// VerifySurface decodes the applet's files and checks them against store:
// the CV certificate under a J-LIS card-face-role key, the signature over
// the three digests (birth date, sex and card key; name and address images;
// photo), and, when read, the age-verification record and the signed 個人番号
// image, plus the files' format. The expiry date and the security-code
// image are not signed by J-LIS (docs/card.md §5.7). It never fails: what
// does not parse is a failed check.
func VerifySurface(raw SurfaceRaw, store *trust.Store) (*Surface, []trust.Check) {
	s := &Surface{Raw: raw}
	var bad []string
	for _, flt := range raw.Faults {
		bad = append(bad, flt.String())
	}
	var groups [3][]byte
	var sig, keyTLV []byte
	haveFace := false
	if raw.Face != nil {
		var err error
		if groups, sig, keyTLV, err = parseFace(raw.Face, s); err != nil {
			bad = append(bad, "card face EF 0002: "+err.Error())
		}
		haveFace = sig != nil
	}
	var cvErr error
	if raw.CVCert != nil {
		if s.cv, cvErr = ParseCVCertificate(raw.CVCert); cvErr != nil {
			bad = append(bad, "EF 0004: "+cvErr.Error())
		}
	}
	if raw.BasicInfo != nil {
		if err := parseBasicInfo(raw.BasicInfo, s); err != nil {
			bad = append(bad, "basic information EF 0003: "+err.Error())
		}
	}
	var age, img *signedRecord
	if raw.AgeRecord != nil {
		var err error
		if age, err = parseSignedRecord(raw.AgeRecord, 0xFF10, 0xDF11); err != nil {
			bad = append(bad, "age-verification record EF 0001: "+err.Error())
		} else if s.AgeBirthDate, err = ParseDate(age.fields[0].Value); err != nil {
			bad = append(bad, "age-verification record birth date "+err.Error())
		}
	}
	if raw.MyNumberImage != nil {
		var err error
		if img, err = parseSignedRecord(raw.MyNumberImage, 0xFF40, 0xDF41); err != nil {
			bad = append(bad, "個人番号 image EF 0005: "+err.Error())
		} else if _, _, err := pngSize(img.fields[0].Value); err != nil {
			bad = append(bad, "個人番号 image EF 0005: "+err.Error())
		} else {
			s.MyNumberImage = img.fields[0].Value
		}
	}

	checks := []trust.Check{formatCheck(trust.CheckSurfaceFormat, "the card face's files", bad)}
	cvCheck := cvCheckOf(s.cv, cvErr, store, trust.RoleSurface, trust.CheckSurfaceCV)
	if raw.CVCached {
		cvCheck.Detail += " (from the verified-certificate cache: the card's EF 0004 names it)"
	}
	checks = append(checks, cvCheck)

	face := trust.Check{Name: trust.CheckSurfaceFace}
	switch {
	case !haveFace || s.cv == nil:
		face = failed(face, cvCheck, "card face or CV certificate missing or malformed")
	default:
		di := append([]byte(nil), faceDigestInfoPrefix[:]...)
		for _, g := range groups {
			sum := sha256.Sum256(g)
			di = append(di, sum[:]...)
		}
		if err := rsa.VerifyPKCS1v15(s.cv.PublicKey, crypto.Hash(0), di, sig); err != nil {
			face = failed(face, cvCheck, "card face (birth date, sex, key, name and address images, photo) does not match its J-LIS signature")
		} else {
			face = passUnder(face, cvCheck, "birth date, sex, card key, name and address images and photo match the J-LIS signature")
			s.cardKey, _ = ParseRSAPublicKey(keyTLV)
		}
	}
	checks = append(checks, face)

	record := func(name trust.CheckName, present bool, rec *signedRecord, what string) {
		if !present {
			return
		}
		ch := trust.Check{Name: name}
		switch {
		case rec == nil || s.cv == nil:
			ch = failed(ch, cvCheck, what+" or the CV certificate is missing or malformed")
		case keyTLV != nil && !bytes.Equal(rec.fields[1].Value, keyTLV):
			ch = failed(ch, cvCheck, what+" names another card key than the card face")
		default:
			ch = s.cv.CheckRecord(name, cvCheck, rec.signed, rec.sig, what)
		}
		checks = append(checks, ch)
	}
	record(trust.CheckSurfaceAge, raw.AgeRecord != nil || hasFault(raw.Faults, myna.SurfaceAgeRecord), age, "age-verification record")
	record(trust.CheckSurfaceMyNumberImage, raw.MyNumberImage != nil || hasFault(raw.Faults, myna.SurfaceMyNumberImg), img, "個人番号 image")
	return s, checks
}

// parseFace decodes EF 0002 into s and returns the three signed groups,
// the signature and the card key value. A structural problem returns nil
// groups; a problem with a field's content is reported after the groups
// are filled (the signature can still be checked).
func parseFace(b []byte, s *Surface) (groups [3][]byte, sig, key []byte, err error) {
	face, _, err := tlv.Parse(b)
	if err != nil || face.Tag != 0xFF20 {
		return groups, nil, nil, fmt.Errorf("want an FF20 object")
	}
	kids, err := face.Children()
	if err != nil {
		return groups, nil, nil, fmt.Errorf("contents do not parse as TLV objects")
	}
	if len(kids) != 1+len(faceTags) || kids[0].Tag != 0xDF21 {
		return groups, nil, nil, fmt.Errorf("want DF21 and DF22-DF2A, in that order")
	}
	f := map[uint32]tlv.TLV{}
	for i, tag := range faceTags {
		if kids[i+1].Tag != tag {
			return groups, nil, nil, fmt.Errorf("want DF21 and DF22-DF2A, in that order")
		}
		f[tag] = kids[i+1]
	}
	cat := func(tags ...uint32) []byte {
		var out []byte
		for _, t := range tags {
			out = append(out, f[t].Raw...)
		}
		return out
	}
	groups = [3][]byte{cat(0xDF22, 0xDF23, 0xDF24), cat(0xDF25, 0xDF26), cat(0xDF27)}
	sig, key = f[0xDF28].Value, f[0xDF24].Value

	var problems []string
	if err := checkOffsets(face, kids); err != nil {
		problems = append(problems, err.Error())
	}
	if d, err := ParseDate(f[0xDF22].Value); err != nil {
		problems = append(problems, "birth date "+err.Error())
	} else {
		s.BirthDate = d
	}
	if sx, ok := parseSexDigit(f[0xDF23].Value); !ok {
		problems = append(problems, "sex is not one JIS X 0303 digit")
	} else {
		s.Sex = sx
	}
	if _, err := ParseRSAPublicKey(key); err != nil {
		problems = append(problems, "card key: "+err.Error())
	}
	for _, p := range []struct {
		tag  uint32
		dst  *[]byte
		what string
	}{{0xDF25, &s.NameImage, "name image"}, {0xDF26, &s.AddressImage, "address image"}, {0xDF2A, &s.SecurityCodeImage, "security-code image"}} {
		if _, _, err := pngSize(f[p.tag].Value); err != nil {
			problems = append(problems, p.what+": "+err.Error())
		} else {
			*p.dst = f[p.tag].Value
		}
	}
	if !IsJP2(f[0xDF27].Value) {
		problems = append(problems, "photo is not a JPEG 2000 (JP2) file")
	} else {
		s.Photo = f[0xDF27].Value
	}
	if len(sig) != 256 {
		problems = append(problems, "signature DF28 is not 256 bytes")
	}
	if d, err := ParseDate(f[0xDF29].Value); err != nil {
		problems = append(problems, "expiry date "+err.Error())
	} else {
		s.ExpiryDate = d
	}
	if len(problems) > 0 {
		return groups, sig, key, fmt.Errorf("%s", joinProblems(problems))
	}
	return groups, sig, key, nil
}

func parseBasicInfo(b []byte, s *Surface) error {
	bi, _, err := tlv.Parse(b)
	if err != nil || bi.Tag != 0xFF30 {
		return fmt.Errorf("want an FF30 object")
	}
	kk, err := bi.Children()
	if err != nil {
		return fmt.Errorf("contents do not parse as TLV objects")
	}
	mc, ok := tlv.Find(kk, 0xDF34)
	if !ok || !myna.Digits(string(mc.Value), 5) {
		return fmt.Errorf("municipality code DF34 is not 5 digits")
	}
	s.MunicipalityCode = string(mc.Value)
	return nil
}

// IsJP2 reports whether b starts with the JPEG 2000 file signature box
// (ISO/IEC 15444-1 Annex I: 00 00 00 0C 6A 50 20 20 0D 0A 87 0A).
func IsJP2(b []byte) bool {
	return len(b) >= 12 && bytes.Equal(b[:12], []byte{0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A})
}

// pngSize checks the PNG signature and IHDR chunk (ISO/IEC 15948) and
// returns the image size, without decoding.
func pngSize(b []byte) (w, h int, err error) {
	if len(b) < 8+8+13 || !bytes.Equal(b[:8], []byte{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}) {
		return 0, 0, fmt.Errorf("not a PNG image")
	}
	if string(b[12:16]) != "IHDR" || b[8] != 0 || b[9] != 0 || b[10] != 0 || b[11] != 13 {
		return 0, 0, fmt.Errorf("PNG image without an IHDR chunk first")
	}
	w = int(b[16])<<24 | int(b[17])<<16 | int(b[18])<<8 | int(b[19])
	h = int(b[20])<<24 | int(b[21])<<16 | int(b[22])<<8 | int(b[23])
	if w <= 0 || h <= 0 || w > 4096 || h > 4096 {
		return 0, 0, fmt.Errorf("PNG image of %d×%d pixels", w, h)
	}
	return w, h, nil
}

// CardKey is the card's own key from DF24 when the card-face signature
// verified (for the presence proof); nil otherwise.
func (s *Surface) CardKey() *rsa.PublicKey { return s.cardKey }

// CV is the applet's card-verifiable certificate (nil when malformed).
func (s *Surface) CV() *CVCertificate { return s.cv }
