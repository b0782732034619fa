package cardap

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// TextRaw is what the 券面事項入力補助AP returned, byte for byte.
type TextRaw struct {
	MyNumberEF []byte // EF 0001 as stored: all 17 bytes, filler included
	Attributes []byte // EF 0002 object
	Integrity  []byte // EF 0003 object
	CVCert     []byte // EF 0004 object
	BasicInfo  []byte // EF 0005 object (optional)
	SignedKey  []byte // EF 0007 object (optional)
}

// Format keeps the 個人番号 EF (its digits are plain ASCII) out of fmt
// output, as MyNumber does; the other files are summarised by size.
func (r TextRaw) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{MyNumberEF:[redacted %d bytes] Attributes:[%d bytes] Integrity:[%d bytes] CVCert:[%d bytes] BasicInfo:[%d bytes] SignedKey:[%d bytes]}",
		len(r.MyNumberEF), len(r.Attributes), len(r.Integrity), len(r.CVCert), len(r.BasicInfo), len(r.SignedKey))
}

// Text is the 券面事項入力補助AP's data.
type Text struct {
	MyNumber  MyNumber `json:"my_number"`
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	BirthDate string   `json:"birth_date"` // YYYY-MM-DD
	Sex       Sex      `json:"sex"`

	Raw TextRaw `json:"-"`

	fields     [4]apdu.TLV // DF22..DF25 as stored
	cv         *CVCertificate
	digestMyNo []byte // DF31
	digestAttr []byte // DF32
	integrity  apdu.TLV
	signature  []byte // DF33
	cardKey    *rsaKeyRecord
}

// rsaKeyRecord is EF 0007: the signed public half of the applet's card key.
type rsaKeyRecord struct {
	keyTLV apdu.TLV // DF51 as stored
	sig    []byte   // DF52
}

// ReadText reads the 券面事項入力補助AP with the session (short PIN, or
// 照合番号A/B where they suffice), and gives the session the My Number as
// 照合番号A so the surface applet needs no further prompt.
func ReadText(ctx context.Context, sess *pin.Session) (*Text, error) {
	var raw TextRaw
	card := sess.Card()
	read := func(fid uint16, dst *[]byte, physical bool) error {
		if err := sess.Open(ctx, myna.Text, fid); err != nil {
			return err
		}
		var b []byte
		var err error
		if physical {
			b, err = card.ReadPhysical(ctx, fid, 64)
		} else {
			b, err = card.ReadObject(ctx, fid)
		}
		if err != nil {
			return fmt.Errorf("券面事項入力補助AP: %w", err)
		}
		*dst = b
		return nil
	}
	if err := read(myna.TextMyNumber, &raw.MyNumberEF, true); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		fid uint16
		dst *[]byte
	}{{myna.TextAttributes, &raw.Attributes}, {myna.TextIntegrity, &raw.Integrity}, {myna.TextCVCert, &raw.CVCert}, {myna.TextBasicInfo, &raw.BasicInfo}, {myna.TextSignedKey, &raw.SignedKey}} {
		if err := read(f.fid, f.dst, false); err != nil {
			return nil, err
		}
	}
	t, err := ParseText(raw)
	if err != nil {
		return nil, err
	}
	sess.Learn(myna.CodeA, []byte(t.MyNumber.Reveal()))
	return t, nil
}

// ParseText decodes the applet's files (card reference §2.2).
func ParseText(raw TextRaw) (*Text, error) {
	t := &Text{Raw: raw}
	// EF 0001: FF 10 0C <12 digits> then filler.
	mn, _, err := apdu.ParseTLV(raw.MyNumberEF)
	if err != nil || mn.Tag != 0xFF10 || !myna.Digits(string(mn.Value), 12) {
		return nil, fmt.Errorf("個人番号 file: want FF10 with 12 digits: %w", apdu.ErrMalformed)
	}
	t.MyNumber = MyNumber(mn.Value)

	// EF 0002: FF 20 { DF21 offsets; DF22 name; DF23 address; DF24 birth; DF25 sex }.
	attr, _, err := apdu.ParseTLV(raw.Attributes)
	if err != nil || attr.Tag != 0xFF20 {
		return nil, fmt.Errorf("基本4情報 file: want FF20: %w", apdu.ErrMalformed)
	}
	kids, err := attr.Children()
	if err != nil {
		return nil, fmt.Errorf("基本4情報 file: %w", err)
	}
	for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
		f, ok := apdu.FindTLV(kids, tag)
		if !ok {
			return nil, fmt.Errorf("基本4情報 file: no %X: %w", tag, apdu.ErrMalformed)
		}
		t.fields[i] = f
	}
	t.Name, t.Address = string(t.fields[0].Value), string(t.fields[1].Value)
	if t.BirthDate, err = isoDate(t.fields[2].Value); err != nil {
		return nil, fmt.Errorf("基本4情報 birth date: %w", err)
	}
	t.Sex = ParseSex(string(t.fields[3].Value))

	// EF 0003: FF 30 { DF31 digest; DF32 digest; DF33 signature }.
	integ, _, err := apdu.ParseTLV(raw.Integrity)
	if err != nil || integ.Tag != 0xFF30 {
		return nil, fmt.Errorf("integrity record: want FF30: %w", apdu.ErrMalformed)
	}
	t.integrity = integ
	ik, err := integ.Children()
	if err != nil {
		return nil, fmt.Errorf("integrity record: %w", err)
	}
	d1, ok1 := apdu.FindTLV(ik, 0xDF31)
	d2, ok2 := apdu.FindTLV(ik, 0xDF32)
	sig, ok3 := apdu.FindTLV(ik, 0xDF33)
	if !ok1 || !ok2 || !ok3 || len(d1.Value) != 32 || len(d2.Value) != 32 {
		return nil, fmt.Errorf("integrity record: want DF31, DF32 (32 bytes each) and DF33: %w", apdu.ErrMalformed)
	}
	t.digestMyNo, t.digestAttr, t.signature = d1.Value, d2.Value, sig.Value

	if t.cv, err = ParseCVCertificate(raw.CVCert); err != nil {
		return nil, fmt.Errorf("券面事項入力補助AP: %w", err)
	}
	if len(raw.SignedKey) > 0 {
		rec, _, err := apdu.ParseTLV(raw.SignedKey)
		if err != nil || rec.Tag != 0xFF50 {
			return nil, fmt.Errorf("signed key record: want FF50: %w", apdu.ErrMalformed)
		}
		kk, err := rec.Children()
		if err != nil {
			return nil, fmt.Errorf("signed key record: %w", err)
		}
		k, ok1 := apdu.FindTLV(kk, 0xDF51)
		s, ok2 := apdu.FindTLV(kk, 0xDF52)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("signed key record: want DF51 and DF52: %w", apdu.ErrMalformed)
		}
		t.cardKey = &rsaKeyRecord{keyTLV: k, sig: s.Value}
	}
	return t, nil
}

// CardKey is the applet's card key from EF 0007 (for the presence proof),
// or nil when EF 0007 was not read or does not parse.
func (t *Text) CardKey() *rsa.PublicKey {
	if t.cardKey == nil {
		return nil
	}
	pub, err := ParseRSAPublicKey(t.cardKey.keyTLV.Value)
	if err != nil {
		return nil
	}
	return pub
}

// Verify checks the applet's data against store (card reference §5.6):
// the CV certificate under its J-LIS key, both digests of the integrity
// record, its signature, the signed card key, and the My Number's check digit.
func (t *Text) Verify(store *trust.Store) []trust.Check {
	cvCheck := t.cv.Verify(store, trust.RoleText, trust.CheckTextCV)
	checks := []trust.Check{cvCheck}

	digest := func(name trust.CheckName, got []byte, want []byte, what string) trust.Check {
		ch := trust.Check{Name: name, Anchor: cvCheck.Anchor, Production: cvCheck.Production}
		if !bytes.Equal(got, want) {
			ch.Result, ch.Detail = trust.Fail, what+" does not match the digest in the integrity record"
			return ch
		}
		return passUnder(ch, cvCheck, what+" matches the integrity record")
	}
	sum := sha256.Sum256(t.Raw.MyNumberEF)
	checks = append(checks, digest(trust.CheckTextMyNumberDigest, sum[:], t.digestMyNo, "個人番号 file"))
	var fields []byte
	for _, f := range t.fields {
		fields = append(fields, f.Raw...)
	}
	sum = sha256.Sum256(fields)
	checks = append(checks, digest(trust.CheckTextAttrDigest, sum[:], t.digestAttr, "基本4情報 (name, address, birth date, sex)"))

	kids, _ := t.integrity.Children()
	d1, _ := apdu.FindTLV(kids, 0xDF31)
	d2, _ := apdu.FindTLV(kids, 0xDF32)
	checks = append(checks, recordCheck(trust.CheckTextIntegrity, t.cv, cvCheck, append(append([]byte(nil), d1.Raw...), d2.Raw...), t.signature, "integrity record"))
	if t.cardKey != nil {
		checks = append(checks, recordCheck(trust.CheckTextSignedKey, t.cv, cvCheck, t.cardKey.keyTLV.Raw, t.cardKey.sig, "applet card key (EF 0007)"))
	}
	cd := trust.Check{Name: trust.CheckTextCheckDigit, Result: trust.Pass, Detail: "check digit is correct"}
	if !t.MyNumber.Valid() {
		cd.Result, cd.Detail = trust.Fail, "check digit is wrong"
	}
	return append(checks, cd)
}

// CV is the applet's card-verifiable certificate.
func (t *Text) CV() *CVCertificate { return t.cv }
