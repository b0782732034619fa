package qr

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

// cardFiles are the default persona's files, as a reader gets them (TLV
// object then FF filler).
type cardFiles struct {
	age, surfaceCV, attributes, integrity, textCV []byte
}

var (
	filesOnce sync.Once
	files     cardFiles
	filesErr  error
)

func personaFiles(t testing.TB) cardFiles {
	t.Helper()
	filesOnce.Do(func() {
		img, err := persona.Build(persona.Default())
		if err != nil {
			filesErr = err
			return
		}
		get := func(a myna.Applet, fid uint16) []byte {
			return img.Applets[fmt.Sprintf("%X", a.AID())].Files[simulator.FIDString(fid)].Data
		}
		files = cardFiles{
			age:        get(myna.Surface, myna.SurfaceAgeRecord),
			surfaceCV:  get(myna.Surface, myna.SurfaceCVCert),
			attributes: get(myna.Text, myna.TextAttributes),
			integrity:  get(myna.Text, myna.TextIntegrity),
			textCV:     get(myna.Text, myna.TextCVCert),
		}
	})
	if filesErr != nil {
		t.Fatal(filesErr)
	}
	return files
}

// simStore trusts the J-LIS production anchors and the simulator's test
// hierarchy, as the CLI does for --simulator.
func simStore(t testing.TB) *trust.Store {
	t.Helper()
	s := trust.Embedded().Clone()
	if err := s.AddCVKeysJSON(persona.TestCVKeysJSON(), "simulator"); err != nil {
		t.Fatal(err)
	}
	return s
}

func ageCode(t testing.TB) *Payload {
	t.Helper()
	f := personaFiles(t)
	p, err := MakeAge(f.age, f.surfaceCV)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func attributesCode(t testing.TB) *Payload {
	t.Helper()
	f := personaFiles(t)
	p, err := MakeAttributes(f.attributes, f.integrity, f.textCV)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encode(t testing.TB, p *Payload) []byte {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkNames(r *Result) []trust.CheckName {
	var n []trust.CheckName
	for _, c := range r.Checks {
		n = append(n, c.Name)
	}
	return n
}

func TestAgeCodeVerifiesGenuine(t *testing.T) {
	b := encode(t, ageCode(t))
	p, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(p, simStore(t))
	if r.Verdict != trust.Genuine {
		t.Fatalf("verdict %s: %+v", r.Verdict, r.Checks)
	}
	if r.Kind != KindAge || r.BirthDate.String() != "1980-02-17" || r.Name != "" || r.Address != "" || r.Sex != "" {
		t.Errorf("facts: %+v", r)
	}
	want := []trust.CheckName{trust.CheckQRFormat, trust.CheckSurfaceCV, trust.CheckSurfaceAge}
	if fmt.Sprint(checkNames(r)) != fmt.Sprint(want) {
		t.Errorf("checks %v, want %v", checkNames(r), want)
	}
}

func TestAttributesCodeVerifiesGenuine(t *testing.T) {
	p, err := Decode(encode(t, attributesCode(t)))
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(p, simStore(t))
	if r.Verdict != trust.Genuine {
		t.Fatalf("verdict %s: %+v", r.Verdict, r.Checks)
	}
	d := persona.Default()
	if r.Name != d.Name || r.Address != d.Address || r.BirthDate.String() != d.BirthDate || r.Sex != cardap.Male {
		t.Errorf("facts: %+v", r)
	}
	want := []trust.CheckName{trust.CheckQRFormat, trust.CheckTextCV, trust.CheckTextIntegrity}
	if fmt.Sprint(checkNames(r)) != fmt.Sprint(want) {
		t.Errorf("checks %v, want %v", checkNames(r), want)
	}
}

// TestOneByteChangedAnywhere flips each byte of the encoded payload in turn.
// No change may be genuine. A change in the value of any field (all of it is
// under a J-LIS signature) must decode and be not-genuine, with one
// exception: the certificate's issuer key ID (body bytes 0-15) names which
// CA signed it, and a changed ID names a CA this verifier does not have —
// exactly what a genuine card of an unknown CA looks like — so it is
// unknown. A change in the CBOR framing is a decode error.
func TestOneByteChangedAnywhere(t *testing.T) {
	store := simStore(t)
	for _, p := range []*Payload{ageCode(t), attributesCode(t)} {
		b := encode(t, p)
		type span struct {
			name       string
			start, end int
		}
		var spans []span
		for name, v := range map[string][]byte{"cv-body": p.CVBody, "cv-signature": p.CVSignature, "record": p.Record, "signature": p.Signature, "my-number-digest": p.MyNumberDigest} {
			if len(v) == 0 {
				continue
			}
			i := bytes.Index(b, v)
			if i < 0 {
				t.Fatalf("%s not found in the encoding", name)
			}
			spans = append(spans, span{name, i, i + len(v)})
		}
		issuer := span{"cv-body issuer key ID", bytes.Index(b, p.CVBody), bytes.Index(b, p.CVBody) + 16}
		counts := map[trust.Verdict]int{}
		decodeErrors := 0
		for i := range b {
			mod := append([]byte(nil), b...)
			mod[i] ^= 0x01
			var in *span
			for j := range spans {
				if i >= spans[j].start && i < spans[j].end {
					in = &spans[j]
				}
			}
			q, err := Decode(mod)
			if err != nil {
				if in != nil {
					t.Fatalf("%s: byte %d (in %s) changed: decode error %v", p.Kind, i, in.name, err)
				}
				decodeErrors++
				continue
			}
			r := Verify(q, store)
			counts[r.Verdict]++
			switch {
			case r.Verdict == trust.Genuine:
				t.Fatalf("%s: byte %d changed and still genuine", p.Kind, i)
			case i >= issuer.start && i < issuer.end:
				if r.Verdict != trust.Undecided && r.Verdict != trust.NotGenuine {
					t.Errorf("%s: issuer key ID byte %d changed: %s", p.Kind, i, r.Verdict)
				}
			case r.Verdict != trust.NotGenuine:
				t.Errorf("%s: byte %d changed: verdict %s, want not-genuine", p.Kind, i, r.Verdict)
			}
		}
		if counts[trust.NotGenuine] < len(b)-200 {
			t.Errorf("%s: only %d of %d one-byte changes were judged not-genuine", p.Kind, counts[trust.NotGenuine], len(b))
		}
		t.Logf("%s: %d bytes: %v, %d decode errors", p.Kind, len(b), counts, decodeErrors)
	}
}

func TestUnknownCAIsUnknown(t *testing.T) {
	// The simulator's CA keys are not in the embedded store.
	for _, p := range []*Payload{ageCode(t), attributesCode(t)} {
		r := Verify(p, trust.Embedded())
		if r.Verdict != trust.Undecided {
			t.Errorf("%s without the simulator's anchors: %s", p.Kind, r.Verdict)
		}
	}
	// A certificate re-issued for the same applet key by a CA no store has.
	ca, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := ageCode(t)
	cv, err := cardap.ParseCVCertificate(p.bareCV())
	if err != nil {
		t.Fatal(err)
	}
	var subject persona.KeyID
	copy(subject[:], cv.SubjectKeyID[:])
	reissued, err := cardap.ParseCVCertificate(persona.CVCert(ca, persona.MakeKeyID("7000023", "001", 0), subject, cv.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	p.CVBody, p.CVSignature = reissued.Body, reissued.Signature
	q, err := Decode(encode(t, p))
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(q, simStore(t))
	if r.Verdict != trust.Undecided || r.Checks[1].Result != trust.Unknown || r.Checks[2].Result != trust.Unknown {
		t.Errorf("unknown CA: %s %+v", r.Verdict, r.Checks)
	}
}

func TestWrongRoleCAIsNotGenuine(t *testing.T) {
	// An age record next to the text applet's certificate: the CV key is
	// the text CA's, not the card-face CA's.
	p := ageCode(t)
	a := attributesCode(t)
	p.CVBody, p.CVSignature = a.CVBody, a.CVSignature
	if r := Verify(p, simStore(t)); r.Verdict != trust.NotGenuine {
		t.Errorf("age record under the text certificate: %s", r.Verdict)
	}
}

func TestMalformedRecordIsAFailedFormatCheck(t *testing.T) {
	p := ageCode(t)
	p.Record = p.Record[:len(p.Record)-1]
	r := Verify(p, simStore(t))
	if r.Verdict != trust.NotGenuine || len(r.Checks) != 1 || r.Checks[0].Name != trust.CheckQRFormat || r.Checks[0].Result != trust.Fail {
		t.Errorf("truncated record: %s %+v", r.Verdict, r.Checks)
	}
	if !r.BirthDate.IsZero() {
		t.Error("facts shown from a malformed record")
	}
}

// rawMap writes a CBOR map by hand, keys and values as given, so tests can
// make encodings the encoder never would.
func rawMap(n byte, parts ...[]byte) []byte {
	b := []byte{0xA0 | n}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func bstr(v []byte) []byte {
	switch {
	case len(v) < 24:
		return append([]byte{0x40 | byte(len(v))}, v...)
	case len(v) < 256:
		return append([]byte{0x58, byte(len(v))}, v...)
	}
	return append([]byte{0x59, byte(len(v) >> 8), byte(len(v))}, v...)
}

func TestDecodeIsStrict(t *testing.T) {
	p := ageCode(t)
	good := encode(t, p)
	// The age code's fields in canonical order after the map header.
	fields := func(version []byte) [][]byte {
		return [][]byte{{0x00}, version, {0x01}, {0x01}, {0x02}, bstr(p.CVBody), {0x03}, bstr(p.CVSignature), {0x04}, bstr(p.Record), {0x05}, bstr(p.Signature)}
	}
	if !bytes.Equal(rawMap(6, fields([]byte{0x01})...), good) {
		t.Fatal("hand-made encoding differs from Encode's; the cases below would test nothing")
	}
	swapped := fields([]byte{0x01})
	swapped[0], swapped[1], swapped[2], swapped[3] = swapped[2], swapped[3], swapped[0], swapped[1]
	longLen := fields([]byte{0x01})
	longLen[11] = append([]byte{0x5A, 0, 0, 1, 0}, p.Signature...) // 4-byte length for 256
	indef := fields([]byte{0x01})
	indef[11] = append(append([]byte{0x5F}, bstr(p.Signature)...), 0xFF)
	textKind := fields([]byte{0x01})
	textKind[3] = []byte{0x63, 'a', 'g', 'e'}

	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"version 2", rawMap(6, fields([]byte{0x02})...), ErrVersion},
		{"version missing", rawMap(5, fields(nil)[2:]...), ErrMissingField},
		{"kind 3", rawMap(6, append(fields([]byte{0x01})[:3:3], append([][]byte{{0x03}}, fields([]byte{0x01})[4:]...)...)...), ErrKind},
		{"signature missing", rawMap(5, fields([]byte{0x01})[:10]...), ErrMissingField},
		{"extra key 7", rawMap(7, append(fields([]byte{0x01}), []byte{0x07}, []byte{0x00})...), ErrExtraField},
		{"digest in an age code", rawMap(7, append(fields([]byte{0x01}), []byte{0x06}, bstr(make([]byte, 32)))...), ErrExtraField},
		{"text key", rawMap(7, append(fields([]byte{0x01}), []byte{0x61, 'x'}, []byte{0x00})...), ErrMalformed},
		{"version 1 as two bytes", rawMap(6, fields([]byte{0x18, 0x01})...), ErrNotDeterministic},
		{"keys out of order", rawMap(6, swapped...), ErrNotDeterministic},
		{"long length form", rawMap(6, longLen...), ErrNotDeterministic},
		{"indefinite length", rawMap(6, indef...), ErrNotDeterministic},
		{"kind as text", rawMap(6, textKind...), ErrMalformed},
		{"trailing byte", append(append([]byte(nil), good...), 0x00), ErrTrailingData},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"array", []byte{0x82, 0x01, 0x01}, ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"oversize", make([]byte, MaxPayloadBytes+1), ErrTooLarge},
		{"short cv body", rawMap(6, append(fields([]byte{0x01})[:5:5], append([][]byte{bstr(p.CVBody[1:])}, fields([]byte{0x01})[6:]...)...)...), ErrMalformed},
		{"duplicate key", rawMap(7, append(fields([]byte{0x01}), []byte{0x00}, []byte{0x01})...), ErrMalformed},
	}
	for _, c := range cases {
		_, err := Decode(c.b)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := Decode(good); err != nil {
		t.Fatalf("good payload: %v", err)
	}
}

func TestMakeRefusesBadCardData(t *testing.T) {
	f := personaFiles(t)
	if _, err := MakeAge(f.attributes, f.surfaceCV); !errors.Is(err, ErrCardData) {
		t.Errorf("age from the wrong file: %v", err)
	}
	if _, err := MakeAge(f.age, f.textCV); !errors.Is(err, ErrCardData) {
		t.Errorf("age record under the text applet's key: %v", err)
	}
	bad := append([]byte(nil), f.attributes...)
	bad[len(bad)/4] ^= 1
	if _, err := MakeAttributes(bad, f.integrity, f.textCV); !errors.Is(err, ErrCardData) {
		t.Errorf("attributes not matching DF32: %v", err)
	}
}

func TestTextRoundTrip(t *testing.T) {
	p := attributesCode(t)
	s, err := p.Text()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, TextPrefix) || strings.Trim(s[len(TextPrefix):], base45Alphabet) != "" {
		t.Fatalf("text is not prefix + base45: %.40q", s)
	}
	b, err := ParseText(s)
	if err != nil || !bytes.Equal(b, encode(t, p)) {
		t.Fatalf("ParseText: %v", err)
	}
	for _, bad := range []string{"HC1:" + s[len(TextPrefix):], TextPrefix + "a", TextPrefix + "GGW", TextPrefix + "ZZZZ"} {
		if _, err := ParseText(bad); err == nil {
			t.Errorf("ParseText(%.20q) accepted", bad)
		}
	}
}

func TestBase45(t *testing.T) {
	// RFC 9285 section 4.3 examples.
	for in, want := range map[string]string{"AB": "BB8", "Hello!!": "%69 VD92EX0", "base-45": "UJCLQE7W581", "ietf!": "QED8WEX0"} {
		if got := base45Encode([]byte(in)); got != want {
			t.Errorf("encode %q = %q, want %q", in, got, want)
		}
		if got, err := base45Decode(want); err != nil || string(got) != in {
			t.Errorf("decode %q = %q, %v", want, got, err)
		}
	}
}

// TestBothKindsFitOneCodeAtLevelM renders both kinds at level M and checks
// the sizes README.md states.
func TestBothKindsFitOneCodeAtLevelM(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Payload{ageCode(t), attributesCode(t)} {
		v, err := QRVersion(p)
		if err != nil {
			t.Fatalf("%s: %v", p.Kind, err)
		}
		if v < 1 || v > 40 {
			t.Fatalf("%s: QR version %d", p.Kind, v)
		}
		png, err := PNG(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := len(encode(t, p))
		row := fmt.Sprintf("| `%s` | %d | %d |", p.Kind, n, v)
		if !bytes.Contains(readme, []byte(row)) {
			t.Errorf("README.md lacks the row %q (update the size table)", row)
		}
		t.Logf("%s: %d payload bytes, QR version %d at level M, PNG %d bytes", p.Kind, n, v, len(png))
	}
}

func scanPNG(t *testing.T, b []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Scan(img)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRenderedCodeScansBack(t *testing.T) {
	for _, p := range []*Payload{ageCode(t), attributesCode(t)} {
		b, err := PNG(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := scanPNG(t, b); !bytes.Equal(got, encode(t, p)) {
			t.Errorf("%s: scanned payload differs", p.Kind)
		}
	}
}

// TestPhotographedCodeScans reads testdata/age-photo.png: the age code
// rotated, scaled, seen in perspective, blurred and noisy, on a grey
// background (made by TestWritePhoto).
func TestPhotographedCodeScans(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "age-photo.png"))
	if err != nil {
		t.Fatal(err)
	}
	got := scanPNG(t, b)
	p, err := Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	r := Verify(p, simStore(t))
	if r.Verdict != trust.Genuine || r.BirthDate.String() != "1980-02-17" {
		t.Errorf("photographed age code: %s %s", r.Verdict, r.BirthDate)
	}
}

func TestScanNoCode(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	if _, err := Scan(img); !errors.Is(err, ErrNoCode) {
		t.Errorf("blank picture: %v", err)
	}
}

func BenchmarkEncodeAge(b *testing.B) {
	p := ageCode(b)
	for b.Loop() {
		if _, err := PNG(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeAttributes(b *testing.B) {
	p := attributesCode(b)
	for b.Loop() {
		if _, err := PNG(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAge is Decode and Verify of the payload bytes.
func BenchmarkVerifyAge(b *testing.B) {
	enc := encode(b, ageCode(b))
	store := simStore(b)
	for b.Loop() {
		p, err := Decode(enc)
		if err != nil {
			b.Fatal(err)
		}
		if r := Verify(p, store); r.Verdict != trust.Genuine {
			b.Fatal(r.Verdict)
		}
	}
}

// BenchmarkScanAndVerifyAge adds reading the rendered QR code's pixels.
func BenchmarkScanAndVerifyAge(b *testing.B) {
	p := ageCode(b)
	png1, err := PNG(p, 0)
	if err != nil {
		b.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(png1))
	if err != nil {
		b.Fatal(err)
	}
	store := simStore(b)
	for b.Loop() {
		raw, err := Scan(img)
		if err != nil {
			b.Fatal(err)
		}
		q, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if r := Verify(q, store); r.Verdict != trust.Genuine {
			b.Fatal(r.Verdict)
		}
	}
}

func BenchmarkVerifyAttributes(b *testing.B) {
	enc := encode(b, attributesCode(b))
	store := simStore(b)
	for b.Loop() {
		p, err := Decode(enc)
		if err != nil {
			b.Fatal(err)
		}
		if r := Verify(p, store); r.Verdict != trust.Genuine {
			b.Fatal(r.Verdict)
		}
	}
}

// BenchmarkScanPhotographedAge reads testdata/age-photo.png (959×959, noisy,
// turned), which needs the smoothed retries.
func BenchmarkScanPhotographedAge(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "age-photo.png"))
	if err != nil {
		b.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Scan(img); err != nil {
			b.Fatal(err)
		}
	}
}
