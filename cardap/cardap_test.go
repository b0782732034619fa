package cardap

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// The test card's 基本4情報 object and digests (docs/card.md §2.2, §5.6).
const testAttributes = "ff2065" +
	"df2108000e0020005900" + "64" +
	"df220fe9bb92e6a190e38080e5b9b9e4b99f" +
	"df2336e69db1e4baace983bde6b885e780ace5b882e8a6b3e5b883e5ad90e58d97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92" +
	"df240831393830303231" + "37" +
	"df250131"

var testMyNumberEF = append(append([]byte{0xFF, 0x10, 0x0C}, "537686677188"...), 0xFF, 0xFF)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	keysOnce sync.Once
	caKey    *rsa.PrivateKey // plays the J-LIS CV CA
	apKey    *rsa.PrivateKey // the applet's data-signing key
	cardKey  *rsa.PrivateKey // the card's own key
)

func keys(t testing.TB) {
	keysOnce.Do(func() {
		caKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		apKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		cardKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	})
}

func keyID(num, group string) []byte {
	return append(append(append([]byte(num), 0x08, 0x05), group...), 0, 0, 0, 0)
}

func encodeKey(pub *rsa.PublicKey) []byte {
	b := tlv.Append(nil, 0x90, []byte{0x01, 0x00, 0x01})
	return tlv.Append(b, 0x91, pub.N.FillBytes(make([]byte, 256)))
}

func sign(t testing.TB, k *rsa.PrivateKey, msg []byte) []byte {
	sum := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func cvCert(t testing.TB, issuer []byte) []byte {
	body := append(append(append([]byte(nil), issuer...), keyID("1322121", "000")...), encodeKey(&apKey.PublicKey)...)
	inner := tlv.Append(nil, 0x5F4E, body)
	inner = tlv.Append(inner, 0x5F37, sign(t, caKey, body))
	return tlv.Append(nil, 0x7F21, inner)
}

var (
	testIssuer        = keyID("6990033", "001") // a text-role CA key
	testSurfaceIssuer = keyID("6990023", "001") // the same key in the card-face role
)

func testStore(t testing.TB) *trust.Store {
	keys(t)
	s := &trust.Store{}
	var id [16]byte
	copy(id[:], testIssuer)
	s.AddCVKey(trust.CVKey{ID: id, Public: &caKey.PublicKey, Role: trust.RoleText, Anchor: trust.Anchor{Name: "unit CV CA"}})
	copy(id[:], testSurfaceIssuer)
	s.AddCVKey(trust.CVKey{ID: id, Public: &caKey.PublicKey, Role: trust.RoleSurface, Anchor: trust.Anchor{Name: "unit CV CA"}})
	return s
}

// textRaw builds the text applet's files around the docs/card.md vectors.
func textRaw(t testing.TB) TextRaw {
	keys(t)
	attrs := mustHex(t, testAttributes)
	obj, _, _ := tlv.Parse(attrs)
	kids, _ := obj.Children()
	var fields []byte
	for _, k := range kids[1:] {
		fields = append(fields, k.Raw...)
	}
	d1 := sha256.Sum256(testMyNumberEF)
	d2 := sha256.Sum256(fields)
	signed := tlv.Append(tlv.Append(nil, 0xDF31, d1[:]), 0xDF32, d2[:])
	integ := tlv.Append(nil, 0xFF30, tlv.Append(append([]byte(nil), signed...), 0xDF33, sign(t, apKey, signed)))
	k := tlv.Append(nil, 0xDF51, encodeKey(&cardKey.PublicKey))
	skey := tlv.Append(nil, 0xFF50, tlv.Append(append([]byte(nil), k...), 0xDF52, sign(t, apKey, k)))
	return TextRaw{MyNumberEF: append([]byte(nil), testMyNumberEF...), Attributes: attrs, Integrity: integ, CVCert: cvCert(t, testIssuer), SignedKey: skey}
}

func TestReferenceDigests(t *testing.T) {
	sum := sha256.Sum256(testMyNumberEF)
	if hex.EncodeToString(sum[:]) != "6d5a4c1ef9ab15bf506862d7e66b9c0f179ca065bc936c8e634e9e57449ca9cd" {
		t.Errorf("My Number digest %x", sum)
	}
	tx, checks := VerifyText(textRaw(t), testStore(t))
	if v, bad := verdictOf(checks); v != trust.Genuine {
		t.Fatalf("the vectors of docs/card.md: %s (%s)", v, bad)
	}
	attr, _, _ := tlv.Parse(tx.Raw.Attributes)
	kids, _ := attr.Children()
	var fields []byte
	for _, f := range kids[1:] {
		fields = append(fields, f.Raw...)
	}
	sum = sha256.Sum256(fields)
	if hex.EncodeToString(sum[:]) != "b9e0d09427b23b1d4beda2848512b4103752dc2667e51f9712872d65f472cb3b" {
		t.Errorf("attributes digest %x", sum)
	}
	if tx.Name != "黒桐　幹也" || tx.BirthDate.String() != "1980-02-17" || tx.Sex != Male || !strings.HasPrefix(tx.Address, "東京都清瀬市") {
		t.Errorf("parsed %+v", tx)
	}
}

func verdictOf(checks []trust.Check) (trust.Verdict, string) {
	var failed []string
	for _, c := range checks {
		if c.Result != trust.Pass {
			failed = append(failed, fmt.Sprintf("%s=%s", c.Name, c.Result))
		}
	}
	return trust.Decide(checks), strings.Join(failed, ",")
}

func TestTextVerify(t *testing.T) {
	store := testStore(t)
	if _, checks := VerifyText(textRaw(t), store); trust.Decide(checks) != trust.Genuine {
		t.Fatalf("genuine data: %+v", checks)
	}
	if _, checks := VerifyText(textRaw(t), &trust.Store{}); trust.Decide(checks) != trust.Undecided {
		t.Fatalf("without the anchor: %+v", checks)
	}
	// One byte changed anywhere signed must name the failing check.
	cases := []struct {
		name  string
		patch func(r *TextRaw)
		check string
	}{
		{"my number digit", func(r *TextRaw) { r.MyNumberEF[5] = '9' }, "text:my-number-digest"},
		{"my number filler", func(r *TextRaw) { r.MyNumberEF[16] = 0xFE }, "text:my-number-digest"},
		{"name", func(r *TextRaw) { r.Attributes[20] ^= 1 }, "text:attributes-digest"},
		{"sex", func(r *TextRaw) { r.Attributes[len(r.Attributes)-1] = '2' }, "text:attributes-digest"},
		{"integrity digest", func(r *TextRaw) { r.Integrity[10] ^= 1 }, "text:my-number-digest"},
		{"integrity signature", func(r *TextRaw) { r.Integrity[len(r.Integrity)-1] ^= 1 }, "text:integrity-signature"},
		{"cv certificate", func(r *TextRaw) { r.CVCert[40] ^= 1 }, "text:cv-certificate"},
		{"signed key", func(r *TextRaw) { r.SignedKey[30] ^= 1 }, "text:signed-key"},
	}
	for _, c := range cases {
		raw := textRaw(t)
		c.patch(&raw)
		_, checks := VerifyText(raw, store)
		if v, _ := verdictOf(checks); v != trust.NotGenuine {
			t.Errorf("%s: verdict %s", c.name, v)
		}
		found := false
		for _, ch := range checks {
			if string(ch.Name) == c.check && ch.Result == trust.Fail {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: %s did not fail: %+v", c.name, c.check, checks)
		}
	}
}

func TestMyNumberRedacts(t *testing.T) {
	m := MyNumber("537686677188")
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%v %s %q %#v %x", m, m, m, m, m), fmt.Sprintf("%+v", struct{ N MyNumber }{m})} {
		if strings.Contains(s, "537686677188") || strings.Contains(s, "3533") {
			t.Errorf("My Number leaked: %s", s)
		}
	}
	if !m.Valid() || MyNumber("537686677189").Valid() {
		t.Error("check digit")
	}
	tx, _ := VerifyText(textRaw(t), testStore(t))
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", tx, tx, tx), fmt.Sprintf("%v %x", *tx, tx.Raw)} {
		if strings.Contains(s, "537686677188") || strings.Contains(s, "53 51 55") || strings.Contains(s, "353337") {
			t.Errorf("My Number leaked: %s", s)
		}
	}
	if b, _ := m.MarshalJSON(); string(b) != `"537686677188"` {
		t.Errorf("JSON %s", b)
	}
}

func TestParseCommon(t *testing.T) {
	c, err := ParseCommon(append([]byte{0x01, 0x1C}, "4000000127198431322120350217"...))
	if err != nil || c.Serial != "400000012719843" || c.MunicipalityCode != "13221" || c.ExpiryDate.String() != "2035-02-17" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := ParseCommon(append([]byte{0x01, 0x1C}, "40000001271984313221203502xx"...)); err == nil {
		t.Error("non-digits accepted")
	}
}

func TestCVCertificateBareForm(t *testing.T) {
	keys(t)
	wrapped := cvCert(t, testIssuer)
	outer, _, _ := tlv.Parse(wrapped)
	for _, b := range [][]byte{wrapped, outer.Value, append(append([]byte(nil), wrapped...), 0xFF, 0xFF)} {
		c, err := ParseCVCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := trust.KeyIDString(c.IssuerKeyID[:]); got != "6990033/001" {
			t.Errorf("issuer %s", got)
		}
		if ch := c.Verify(testStore(t), trust.RoleText, trust.CheckTextCV); ch.Result != trust.Pass || ch.Anchor != "unit CV CA" {
			t.Errorf("%+v", ch)
		}
	}
}

// faceRaw builds a card face signed like the card's.
func faceRaw(t testing.TB) SurfaceRaw {
	keys(t)
	fields := map[uint32][]byte{
		0xDF22: []byte("19800217"), 0xDF23: []byte("1"), 0xDF24: encodeKey(&cardKey.PublicKey),
		0xDF25: pngStub("name"), 0xDF26: pngStub("address"), 0xDF27: []byte("\x00\x00\x00\x0cjP  \r\n\x87\nphoto"),
		0xDF29: []byte("20350217"), 0xDF2A: pngStub("code"),
	}
	field := func(tag uint32) []byte { return tlv.Append(nil, tag, fields[tag]) }
	cat := func(tags ...uint32) []byte {
		var b []byte
		for _, tg := range tags {
			b = append(b, field(tg)...)
		}
		return b
	}
	di := append([]byte(nil), faceDigestInfoPrefix[:]...)
	for _, g := range [][]byte{cat(0xDF22, 0xDF23, 0xDF24), cat(0xDF25, 0xDF26), cat(0xDF27)} {
		s := sha256.Sum256(g)
		di = append(di, s[:]...)
	}
	sig, err := rsa.SignPKCS1v15(nil, apKey, crypto.Hash(0), di)
	if err != nil {
		t.Fatal(err)
	}
	fields[0xDF28] = sig
	var kids []byte
	for _, tg := range faceTags {
		kids = append(kids, field(tg)...)
	}
	// The offset table (not signed) says where each field starts in the file.
	n := 3 + 2*len(faceTags) + len(kids)
	off := len(tlv.Append(nil, 0xFF20, make([]byte, n))) - n + 3 + 2*len(faceTags)
	var table []byte
	for _, tg := range faceTags {
		table = append(table, byte(off>>8), byte(off))
		off += len(field(tg))
	}
	body := append(tlv.Append(nil, 0xDF21, table), kids...)
	signed := func(outer, first uint32, data []byte) []byte {
		v := tlv.Append(tlv.Append(nil, first, data), first+1, fields[0xDF24])
		return tlv.Append(nil, outer, tlv.Append(append([]byte(nil), v...), first+2, sign(t, apKey, v)))
	}
	info := tlv.Append(nil, 0xFF30, append(tlv.Append(nil, 0xDF31, []byte{6, 3, 0x0E, 1}), tlv.Append(nil, 0xDF34, []byte("13221"))...))
	return SurfaceRaw{
		Face: tlv.Append(nil, 0xFF20, body), CVCert: cvCert(t, testSurfaceIssuer), BasicInfo: info,
		AgeRecord: signed(0xFF10, 0xDF11, []byte("19800217")), MyNumberImage: signed(0xFF40, 0xDF41, pngStub("number")),
	}
}

// pngStub is a PNG signature and IHDR chunk (a 24×12 image) followed by
// tail: enough for the card-face parser's header check.
func pngStub(tail string) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x18\x00\x00\x00\x0c\x01\x00\x00\x00\x00\x00\x00\x00\x00")
	return append(b, tail...)
}

func namedCheck(checks []trust.Check, name trust.CheckName) (trust.Check, bool) {
	for _, c := range checks {
		if c.Name == name {
			return c, true
		}
	}
	return trust.Check{}, false
}

func TestSurfaceVerify(t *testing.T) {
	store := testStore(t)
	s, checks := VerifySurface(faceRaw(t), store)
	if s.AgeBirthDate.String() != "1980-02-17" || s.MunicipalityCode != "13221" || !strings.HasSuffix(string(s.MyNumberImage), "number") {
		t.Errorf("optional files: %+v", s)
	}
	if s.BirthDate.String() != "1980-02-17" || s.ExpiryDate.String() != "2035-02-17" || s.Sex != Male || s.CardKey() == nil || s.CardKey().N.Cmp(cardKey.N) != 0 || !strings.HasSuffix(string(s.Photo), "photo") {
		t.Fatalf("parsed %+v", s)
	}
	if v, bad := verdictOf(checks); v != trust.Genuine {
		t.Fatalf("genuine face: %s %s", v, bad)
	}
	for _, tag := range []string{"19800217", "name", "address", "photo"} {
		raw := faceRaw(t)
		i := strings.Index(string(raw.Face), tag)
		raw.Face[i] ^= 1
		s, checks := VerifySurface(raw, store)
		if c, _ := namedCheck(checks, trust.CheckSurfaceFace); c.Result != trust.Fail || s.CardKey() != nil {
			t.Errorf("%s changed: %+v", tag, checks)
		}
	}
	for _, c := range []struct {
		name, check string
		patch       func(r *SurfaceRaw)
	}{
		{"age record birth date", "surface:age-signature", func(r *SurfaceRaw) { r.AgeRecord[10] ^= 1 }},
		{"age record signature", "surface:age-signature", func(r *SurfaceRaw) { r.AgeRecord[len(r.AgeRecord)-1] ^= 1 }},
		{"個人番号 image", "surface:my-number-image-signature", func(r *SurfaceRaw) { r.MyNumberImage[len(r.MyNumberImage)-300] ^= 1 }},
	} {
		raw := faceRaw(t)
		c.patch(&raw)
		_, checks := VerifySurface(raw, store)
		if ch, ok := namedCheck(checks, trust.CheckName(c.check)); !ok || ch.Result != trust.Fail || trust.Decide(checks) != trust.NotGenuine {
			t.Errorf("%s changed: %+v", c.name, checks)
		}
	}
	// The expiry date is not signed: changing it is not detected by the signature.
	raw := faceRaw(t)
	i := strings.Index(string(raw.Face), "20350217")
	raw.Face[i+3] = '6'
	if s, checks := VerifySurface(raw, store); trust.Decide(checks) != trust.Genuine || s.ExpiryDate.String() != "2036-02-17" {
		t.Error("expiry date handling")
	}
}

func TestMyNumberMasked(t *testing.T) {
	m := MyNumber("537686677188")
	if m.Masked() != "**** **** 7188" || m.Grouped() != "5376 8667 7188" {
		t.Fatalf("%q %q", m.Masked(), m.Grouped())
	}
	for _, bad := range []MyNumber{"", "53768667718", "5376866771x8", "5376866771888"} {
		if bad.Masked() != "" || bad.Grouped() != "" {
			t.Errorf("%q masked to %q", string(bad), bad.Masked())
		}
	}
}
