package cardap_test

import (
	"context"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/apdu"
	. "github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// The default persona's card image, served by the simulator engine, read
// through apdu.Card and a pin.Session, and verified by this package.

func simSession(t testing.TB, img *simulator.Image) *pin.Session {
	t.Helper()
	s := pin.NewSession(apdu.NewCard(simtest.Sim(t, img)), simtest.NewPrompter(simtest.PIN))
	// 照合番号B opens the card face and yields the birth key (昭和55年2月17日,
	// expiry 2035, security code 2285); the My Number is read with the PIN.
	s.Learn(myna.CodeB, []byte(simtest.CodeB))
	s.Learn(myna.ShortPIN, []byte(simtest.PIN))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// cardData is everything this package reads from one card, verified.
type cardData struct {
	text    *Text
	surface *Surface
	checks  []trust.Check
}

func readAll(t testing.TB, s *pin.Session, store *trust.Store, text, surface bool) cardData {
	t.Helper()
	ctx := context.Background()
	var d cardData
	if text {
		raw, err := ReadText(ctx, s, TextOptions{Attributes: true, MyNumber: true, SignedKey: true})
		if err != nil {
			t.Fatal(err)
		}
		var c []trust.Check
		d.text, c = VerifyText(*raw, store)
		d.checks = append(d.checks, c...)
		if mn, ok := d.text.VerifiedMyNumber(); ok {
			s.Learn(myna.CodeA, []byte(mn))
		}
	}
	if surface {
		raw, err := ReadSurface(ctx, s, SurfaceOptions{BasicInfo: true, AgeRecord: true, MyNumberImage: s.Holds(myna.CodeA)})
		if err != nil {
			t.Fatal(err)
		}
		var c []trust.Check
		d.surface, c = VerifySurface(*raw, store)
		d.checks = append(d.checks, c...)
	}
	return d
}

func checkNamed(checks []trust.Check, name trust.CheckName) (trust.Check, bool) {
	for _, c := range checks {
		if c.Name == name {
			return c, true
		}
	}
	return trust.Check{}, false
}

func prove(t *testing.T, s *pin.Session, a myna.Applet, name trust.CheckName, key *rsa.PublicKey, keyCheck trust.Check) trust.Check {
	t.Helper()
	c, _, err := ProvePresence(context.Background(), s, a, name, key, keyCheck, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSimulatedCardIsGenuine(t *testing.T) {
	ctx := context.Background()
	s := simSession(t, simtest.Image(t))
	store := simtest.Store(t)
	d := readAll(t, s, store, true, true)
	rec, fault, err := ReadCommon(ctx, s)
	if err != nil || fault != nil {
		t.Fatal(err, fault)
	}
	cm, err := ParseCommon(rec)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ReadCardChain(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	checks := append(d.checks, VerifyCardChain(*chain, store)...)

	p := persona.Default()
	tx, sf := d.text, d.surface
	if tx.MyNumber.Reveal() != string(p.MyNumber) || tx.Name != p.Name || tx.Address != p.Address || tx.BirthDate.String() != p.BirthDate || tx.Sex != Male {
		t.Errorf("text: %q %q %s %s", tx.Name, tx.Address, tx.BirthDate, tx.Sex)
	}
	if len(tx.Raw.MyNumberEF) != myna.MyNumberEFBytes {
		t.Errorf("個人番号 EF read as %d bytes, want the physical %d", len(tx.Raw.MyNumberEF), myna.MyNumberEFBytes)
	}
	if mn, ok := tx.VerifiedMyNumber(); !ok || mn != string(p.MyNumber) {
		t.Error("a verified My Number is not offered as 照合番号A")
	}
	if sf.BirthDate.String() != p.BirthDate || sf.AgeBirthDate.String() != p.BirthDate || sf.ExpiryDate.String() != p.CardExpiry || sf.Sex != Male || sf.MunicipalityCode != p.Municipality {
		t.Errorf("surface: %+v", sf)
	}
	if !strings.HasPrefix(string(sf.NameImage), "\x89PNG") || !IsJP2(sf.Photo) || len(sf.MyNumberImage) == 0 || len(sf.SecurityCodeImage) == 0 {
		t.Error("surface images")
	}
	if sf.CardKey() == nil || tx.CardKey() == nil || sf.CardKey().N.Cmp(tx.CardKey().N) == 0 {
		t.Error("each applet must offer its own verified card key")
	}
	if cm.Serial != p.Serial || cm.MunicipalityCode != p.Municipality || cm.ExpiryDate.String() != p.CardExpiry {
		t.Errorf("common: %+v", cm)
	}
	for _, name := range []trust.CheckName{trust.CheckTextFormat, trust.CheckTextCV, trust.CheckTextMyNumberDigest, trust.CheckTextAttrDigest, trust.CheckTextIntegrity,
		trust.CheckTextSignedKey, trust.CheckTextCheckDigit, trust.CheckSurfaceFormat, trust.CheckSurfaceCV, trust.CheckSurfaceFace, trust.CheckSurfaceAge,
		trust.CheckSurfaceMyNumberImage, trust.CheckChainRoot, trust.CheckChainLower} {
		c, ok := checkNamed(checks, name)
		if !ok || c.Result != trust.Pass {
			t.Errorf("%s: %+v (present %v)", name, c, ok)
		}
		if ok && !strings.HasSuffix(string(name), ":format") && name != trust.CheckTextCheckDigit && c.Anchor == "" {
			t.Errorf("%s names no anchor", name)
		}
	}
	if v := trust.Decide(checks); v != trust.Genuine {
		t.Fatalf("verdict %s: %+v", v, checks)
	}

	// The presence proof with each applet's key, taken from its verified record.
	faceCheck, _ := checkNamed(checks, trust.CheckSurfaceFace)
	keyCheck, _ := checkNamed(checks, trust.CheckTextSignedKey)
	if c := prove(t, s, myna.Surface, trust.CheckPresenceSurface, sf.CardKey(), faceCheck); c.Result != trust.Pass {
		t.Errorf("surface presence: %+v", c)
	}
	if c := prove(t, s, myna.Text, trust.CheckPresenceText, tx.CardKey(), keyCheck); c.Result != trust.Pass {
		t.Errorf("text presence: %+v", c)
	}
	// Another chip's key (here the other applet's) does not answer for this one.
	if c := prove(t, s, myna.Surface, trust.CheckPresenceSurface, tx.CardKey(), faceCheck); c.Result != trust.Fail {
		t.Errorf("surface presence with the text key: %+v", c)
	}
	// A key from a record that was not verified proves nothing.
	if c := prove(t, s, myna.Surface, trust.CheckPresenceSurface, sf.CardKey(), trust.Check{Result: trust.Unknown}); c.Result != trust.Unknown {
		t.Errorf("surface presence under an unverified record: %+v", c)
	}
	if c := prove(t, s, myna.Surface, trust.CheckPresenceSurface, nil, faceCheck); c.Result != trust.Fail {
		t.Errorf("surface presence without a key: %+v", c)
	}
}

func TestSimulatedCardUnknownAnchor(t *testing.T) {
	// J-LIS production anchors only: the simulator's CV CA keys are unknown.
	d := readAll(t, simSession(t, simtest.Image(t)), trust.Embedded(), true, true)
	if v := trust.Decide(d.checks); v != trust.Undecided {
		t.Fatalf("verdict %s: %+v", v, d.checks)
	}
	for _, c := range d.checks {
		want := trust.Unknown
		if c.Name == trust.CheckTextCheckDigit || strings.HasSuffix(string(c.Name), ":format") {
			want = trust.Pass
		}
		if c.Result != want {
			t.Errorf("%s: %s, want %s (%s)", c.Name, c.Result, want, c.Detail)
		}
		if strings.HasSuffix(string(c.Name), ":cv-certificate") && !strings.Contains(c.Detail, "/") {
			t.Errorf("%s does not name the key ID: %q", c.Name, c.Detail)
		}
	}
	// Self-consistency is enough to present the My Number as 照合番号A: it
	// is the card's own number, matched against its own signed record.
	if _, ok := d.text.VerifiedMyNumber(); !ok {
		t.Error("the My Number matched its signed record but is not offered as 照合番号A")
	}
}

// tamper changes one byte of a file of the image: in the value of the
// object reached by path (outer tag, then child tags), at offset at
// (negative: from the end), or in the filler when path is empty.
type tamper struct {
	item   string
	applet myna.Applet
	fid    uint16
	path   []uint32
	at     int
	check  string
}

func (tc tamper) apply(t *testing.T, img *simulator.Image) {
	t.Helper()
	f := simtest.Applet(img, tc.applet).Files[simulator.FIDString(tc.fid)]
	if f == nil {
		t.Fatalf("%s: no EF %04X", tc.item, tc.fid)
	}
	data := []byte(f.Data)
	if len(tc.path) == 0 {
		obj, _, err := tlv.Parse(data)
		if err != nil || len(obj.Raw) >= len(data) {
			t.Fatalf("%s: no filler after the object", tc.item)
		}
		data[len(obj.Raw)+tc.at] ^= 0x01
		return
	}
	obj, _, err := tlv.Parse(data)
	if err != nil || obj.Tag != tc.path[0] {
		t.Fatalf("%s: EF %04X holds no %X", tc.item, tc.fid, tc.path[0])
	}
	for _, tag := range tc.path[1:] {
		kids, err := obj.Children()
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		if obj, ok = tlv.Find(kids, tag); !ok {
			t.Fatalf("%s: no %X", tc.item, tag)
		}
	}
	i := tc.at
	if i < 0 {
		i += len(obj.Value)
	}
	obj.Value[i] ^= 0x01 // Value aliases the image's bytes
}

func TestSimulatedCardTampered(t *testing.T) {
	const (
		mnEF    = myna.TextMyNumber
		attrEF  = myna.TextAttributes
		integEF = myna.TextIntegrity
		face    = myna.SurfaceFace
	)
	cases := []tamper{
		{"個人番号 digit", myna.Text, mnEF, []uint32{0xFF10}, 11, "text:my-number-digest"},
		{"個人番号 filler", myna.Text, mnEF, nil, 1, "text:my-number-digest"},
		{"name", myna.Text, attrEF, []uint32{0xFF20, 0xDF22}, 1, "text:attributes-digest"},
		{"address", myna.Text, attrEF, []uint32{0xFF20, 0xDF23}, -1, "text:attributes-digest"},
		{"birth date", myna.Text, attrEF, []uint32{0xFF20, 0xDF24}, 3, "text:attributes-digest"},
		{"sex", myna.Text, attrEF, []uint32{0xFF20, 0xDF25}, 0, "text:attributes-digest"},
		{"integrity DF31", myna.Text, integEF, []uint32{0xFF30, 0xDF31}, 0, "text:my-number-digest"},
		{"integrity DF32", myna.Text, integEF, []uint32{0xFF30, 0xDF32}, 31, "text:attributes-digest"},
		{"integrity signature", myna.Text, integEF, []uint32{0xFF30, 0xDF33}, 100, "text:integrity-signature"},
		{"text CV subject", myna.Text, myna.TextCVCert, []uint32{0x7F21, 0x5F4E}, 20, "text:cv-certificate"},
		{"text CV key", myna.Text, myna.TextCVCert, []uint32{0x7F21, 0x5F4E}, -1, "text:cv-certificate"},
		{"text CV signature", myna.Text, myna.TextCVCert, []uint32{0x7F21, 0x5F37}, 7, "text:cv-certificate"},
		{"text signed key", myna.Text, myna.TextSignedKey, []uint32{0xFF50, 0xDF51}, 100, "text:signed-key"},
		{"text signed key signature", myna.Text, myna.TextSignedKey, []uint32{0xFF50, 0xDF52}, 0, "text:signed-key"},
		{"face birth date", myna.Surface, face, []uint32{0xFF20, 0xDF22}, 7, "surface:face-signature"},
		{"face sex", myna.Surface, face, []uint32{0xFF20, 0xDF23}, 0, "surface:face-signature"},
		{"face card key", myna.Surface, face, []uint32{0xFF20, 0xDF24}, -3, "surface:face-signature"},
		{"face name image", myna.Surface, face, []uint32{0xFF20, 0xDF25}, -1, "surface:face-signature"},
		{"face address image", myna.Surface, face, []uint32{0xFF20, 0xDF26}, 40, "surface:face-signature"},
		{"face photo", myna.Surface, face, []uint32{0xFF20, 0xDF27}, -1, "surface:face-signature"},
		{"face signature", myna.Surface, face, []uint32{0xFF20, 0xDF28}, 255, "surface:face-signature"},
		{"surface CV key", myna.Surface, myna.SurfaceCVCert, []uint32{0x7F21, 0x5F4E}, 100, "surface:cv-certificate"},
		{"surface CV signature", myna.Surface, myna.SurfaceCVCert, []uint32{0x7F21, 0x5F37}, -1, "surface:cv-certificate"},
		{"age record birth date", myna.Surface, myna.SurfaceAgeRecord, []uint32{0xFF10, 0xDF11}, 7, "surface:age-signature"},
		{"age record signature", myna.Surface, myna.SurfaceAgeRecord, []uint32{0xFF10, 0xDF13}, 9, "surface:age-signature"},
		{"個人番号 image", myna.Surface, myna.SurfaceMyNumberImg, []uint32{0xFF40, 0xDF41}, -1, "surface:my-number-image-signature"},
		{"個人番号 image key", myna.Surface, myna.SurfaceMyNumberImg, []uint32{0xFF40, 0xDF42}, 50, "surface:my-number-image-signature"},
	}
	store := simtest.Store(t)
	for _, tc := range cases {
		t.Run(tc.item, func(t *testing.T) {
			img := simtest.Image(t)
			tc.apply(t, img)
			d := readAll(t, simSession(t, img), store, true, tc.applet == myna.Surface)
			checks := d.checks
			if v := trust.Decide(checks); v != trust.NotGenuine {
				t.Errorf("verdict %s", v)
			}
			c, ok := checkNamed(checks, trust.CheckName(tc.check))
			if !ok || c.Result != trust.Fail || c.Detail == "" {
				t.Errorf("%s: %+v (present %v); all: %+v", tc.check, c, ok, checks)
			}
		})
	}
}

// The unsigned fields change without any check of this package failing:
// they are reported as read (the root package compares the copies).
func TestSimulatedCardUnsignedFields(t *testing.T) {
	img := simtest.Image(t)
	for _, tc := range []tamper{
		{item: "expiry", applet: myna.Surface, fid: myna.SurfaceFace, path: []uint32{0xFF20, 0xDF29}, at: 3},
		{item: "security code image", applet: myna.Surface, fid: myna.SurfaceFace, path: []uint32{0xFF20, 0xDF2A}, at: -1},
		{item: "face filler", applet: myna.Surface, fid: myna.SurfaceFace, at: 0},
	} {
		tc.apply(t, img)
	}
	store := simtest.Store(t)
	d := readAll(t, simSession(t, img), store, true, true)
	if v := trust.Decide(d.checks); v != trust.Genuine {
		t.Fatalf("verdict %s: %+v", v, d.checks)
	}
	if d.surface.ExpiryDate.String() != "2034-02-17" {
		t.Errorf("expiry %s: the changed (unsigned) date is what the card holds", d.surface.ExpiryDate)
	}
}

// An offset table that does not say where the fields are is malformed
// content, even though no signature covers it: the file is not as a card
// writes it.
func TestOffsetTablesAreChecked(t *testing.T) {
	for _, tc := range []tamper{
		{item: "face offset table", applet: myna.Surface, fid: myna.SurfaceFace, path: []uint32{0xFF20, 0xDF21}, at: 1, check: string(trust.CheckSurfaceFormat)},
		{item: "attributes offset table", applet: myna.Text, fid: myna.TextAttributes, path: []uint32{0xFF20, 0xDF21}, at: 1, check: string(trust.CheckTextFormat)},
	} {
		img := simtest.Image(t)
		tc.apply(t, img)
		d := readAll(t, simSession(t, img), simtest.Store(t), true, true)
		if c, ok := checkNamed(d.checks, trust.CheckName(tc.check)); !ok || c.Result != trust.Fail || !strings.Contains(c.Detail, "offset table") {
			t.Errorf("%s: %+v", tc.item, c)
		}
	}
}

// A file the card refuses, or sends cut short, is a failed check, not an
// error: the card answered, and no genuine card answers that way.
func TestRefusedAndTruncatedFilesAreFaults(t *testing.T) {
	img := simtest.Image(t)
	cv := simtest.EF(t, img, myna.Text, myna.TextCVCert)
	simtest.SetEF(t, img, myna.Text, myna.TextCVCert, cv[:300]) // the header says 568 bytes
	s := pin.NewSession(apdu.NewCard(simtest.Sim(t, img)), simtest.NewPrompter(simtest.PIN))
	d := readAll(t, s, simtest.Store(t), true, false)
	c, _ := checkNamed(d.checks, trust.CheckTextCV)
	f, _ := checkNamed(d.checks, trust.CheckTextFormat)
	if c.Result != trust.Fail || f.Result != trust.Fail || !strings.Contains(f.Detail, "EF 0004") {
		t.Fatalf("truncated CV certificate: %+v / %+v", c, f)
	}
	if _, ok := d.text.VerifiedMyNumber(); ok {
		t.Error("a My Number whose record cannot be verified is offered as 照合番号A")
	}
}
