package cardap

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

// End-to-end: the default persona's card image, served by the simulator
// engine, read through apdu.Card and a pin.Session as the CLI does.

// kindPrompter answers each kind of secret from a table and counts prompts.
type kindPrompter struct {
	answers map[myna.Secret]string
	asked   []myna.Secret
}

func (p *kindPrompter) Prompt(_ context.Context, r pin.Request) ([]byte, error) {
	p.asked = append(p.asked, r.Kind)
	a, ok := p.answers[r.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: test prompter has no %s", pin.ErrNoSecret, r.Kind)
	}
	return []byte(a), nil
}

func defaultPrompter() *kindPrompter {
	return &kindPrompter{answers: map[myna.Secret]string{myna.ShortPIN: "1234"}}
}

func simStore(t testing.TB) *trust.Store {
	t.Helper()
	s := trust.Embedded().Clone()
	if err := s.AddCVKeysJSON(persona.TestCVKeysJSON(), "simulator"); err != nil {
		t.Fatal(err)
	}
	return s
}

func defaultImage(t testing.TB) *simulator.Image {
	t.Helper()
	img, err := persona.Build(persona.Default())
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func simSession(t testing.TB, img *simulator.Image) *pin.Session {
	t.Helper()
	sim, err := simulator.New(img)
	if err != nil {
		t.Fatal(err)
	}
	s := pin.NewSession(apdu.NewCard(sim), defaultPrompter())
	// The session opens the age record with the 生年月日 key it derives
	// from 照合番号B (昭和55年2月17日, expiry 2035, security code 2285).
	s.Learn(myna.CodeB, []byte("55021720352285"))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// cardData is everything cardap reads from one card, with its checks.
type cardData struct {
	text    *Text
	surface *Surface
	common  *Common
	chain   *CardChain
}

func readAll(t testing.TB, s *pin.Session, text, surface bool) cardData {
	t.Helper()
	ctx := context.Background()
	var d cardData
	var err error
	if text {
		if d.text, err = ReadText(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if surface {
		if d.surface, err = ReadSurface(ctx, s, SurfaceOptions{AgeRecord: true, MyNumberImage: true}); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (d cardData) checks(store *trust.Store) []trust.Check {
	var out []trust.Check
	if d.text != nil {
		out = append(out, d.text.Verify(store)...)
	}
	if d.surface != nil {
		out = append(out, d.surface.Verify(store)...)
	}
	if d.chain != nil {
		out = append(out, d.chain.Verify(store)...)
	}
	return out
}

func checkNamed(checks []trust.Check, name trust.CheckName) (trust.Check, bool) {
	for _, c := range checks {
		if c.Name == name {
			return c, true
		}
	}
	return trust.Check{}, false
}

func TestSimulatedCardIsGenuine(t *testing.T) {
	ctx := context.Background()
	s := simSession(t, defaultImage(t))
	d := readAll(t, s, true, true)
	var err error
	if d.common, err = ReadCommon(ctx, s); err != nil {
		t.Fatal(err)
	}
	if d.chain, err = ReadCardChain(ctx, s); err != nil {
		t.Fatal(err)
	}

	p := persona.Default()
	tx, sf, cm := d.text, d.surface, d.common
	if tx.MyNumber.Reveal() != string(p.MyNumber) || tx.Name != p.Name || tx.Address != p.Address || tx.BirthDate != p.BirthDate || tx.Sex != Male {
		t.Errorf("text: %q %q %s %s", tx.Name, tx.Address, tx.BirthDate, tx.Sex)
	}
	if len(tx.Raw.MyNumberEF) != myna.MyNumberEFBytes {
		t.Errorf("個人番号 EF read as %d bytes, want the physical %d", len(tx.Raw.MyNumberEF), myna.MyNumberEFBytes)
	}
	if sf.BirthDate != p.BirthDate || sf.AgeBirthDate != p.BirthDate || sf.ExpiryDate != p.CardExpiry || sf.Sex != Male || sf.MunicipalityCode != p.Municipality {
		t.Errorf("surface: %+v", sf)
	}
	if !strings.HasPrefix(string(sf.NameImage), "\x89PNG") || !strings.HasPrefix(string(sf.Photo[4:]), "jP  ") || len(sf.MyNumberImage) == 0 || len(sf.SecurityCodeImage) == 0 {
		t.Error("surface images")
	}
	if sf.CardKey.N.Cmp(tx.CardKey().N) == 0 {
		t.Error("the surface and text applets share a card key; the persona gives each its own")
	}
	if cm.Serial != p.Serial || cm.MunicipalityCode != p.Municipality || cm.ExpiryDate != p.CardExpiry {
		t.Errorf("common: %+v", cm)
	}

	store := simStore(t)
	checks := d.checks(store)
	for _, name := range []string{"text:cv-certificate", "text:my-number-digest", "text:attributes-digest", "text:integrity-signature", "text:signed-key", "text:my-number-check-digit",
		"surface:cv-certificate", "surface:face-signature", "surface:age-signature", "surface:my-number-image-signature", "card:cv-chain-root"} {
		c, ok := checkNamed(checks, trust.CheckName(name))
		if !ok || c.Result != trust.Pass {
			t.Errorf("%s: %+v (present %v)", name, c, ok)
		}
		if ok && name != "text:my-number-check-digit" && c.Anchor == "" {
			t.Errorf("%s names no anchor", name)
		}
	}
	if v := trust.Decide(checks); v != trust.Genuine {
		t.Fatalf("verdict %s: %+v", v, checks)
	}

	// The presence proof with each applet's key, taken from its verified record.
	faceCheck, _ := checkNamed(checks, "surface:face-signature")
	keyCheck, _ := checkNamed(checks, "text:signed-key")
	if c := ProvePresence(ctx, s, myna.Surface, sf.CardKey, faceCheck); c.Name != "presence:surface" || c.Result != trust.Pass {
		t.Errorf("surface presence: %+v", c)
	}
	if c := ProvePresence(ctx, s, myna.Text, tx.CardKey(), keyCheck); c.Name != "presence:text" || c.Result != trust.Pass {
		t.Errorf("text presence: %+v", c)
	}
	// Another chip's key (here the other applet's) does not answer for this one.
	if c := ProvePresence(ctx, s, myna.Surface, tx.CardKey(), faceCheck); c.Result != trust.Fail {
		t.Errorf("surface presence with the text key: %+v", c)
	}
	// A key from a record that was not verified proves nothing.
	if c := ProvePresence(ctx, s, myna.Surface, sf.CardKey, trust.Check{Result: trust.Unknown}); c.Result != trust.Unknown {
		t.Errorf("surface presence under an unverified record: %+v", c)
	}
}

func TestSimulatedCardUnknownAnchor(t *testing.T) {
	d := readAll(t, simSession(t, defaultImage(t)), true, true)
	// J-LIS production anchors only: the simulator's CV CA keys are unknown.
	checks := d.checks(trust.Embedded())
	if v := trust.Decide(checks); v != trust.Undecided {
		t.Fatalf("verdict %s: %+v", v, checks)
	}
	for _, c := range checks {
		want := trust.Unknown
		if c.Name == "text:my-number-check-digit" {
			want = trust.Pass
		}
		if c.Result != want {
			t.Errorf("%s: %s, want %s (%s)", c.Name, c.Result, want, c.Detail)
		}
		if strings.HasSuffix(string(c.Name), ":cv-certificate") && !strings.Contains(c.Detail, "/") {
			t.Errorf("%s does not name the key ID: %q", c.Name, c.Detail)
		}
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
	f := img.Applets[fmt.Sprintf("%X", tc.applet.AID())].Files[simulator.FIDString(tc.fid)]
	if f == nil {
		t.Fatalf("%s: no EF %04X", tc.item, tc.fid)
	}
	data := []byte(f.Data)
	if len(tc.path) == 0 {
		obj, _, err := apdu.ParseTLV(data)
		if err != nil || len(obj.Raw) >= len(data) {
			t.Fatalf("%s: no filler after the object", tc.item)
		}
		data[len(obj.Raw)+tc.at] ^= 0x01
		return
	}
	obj, _, err := apdu.ParseTLV(data)
	if err != nil || obj.Tag != tc.path[0] {
		t.Fatalf("%s: EF %04X holds no %X", tc.item, tc.fid, tc.path[0])
	}
	for _, tag := range tc.path[1:] {
		kids, err := obj.Children()
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		if obj, ok = apdu.FindTLV(kids, tag); !ok {
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
	store := simStore(t)
	for _, tc := range cases {
		t.Run(tc.item, func(t *testing.T) {
			img := defaultImage(t)
			tc.apply(t, img)
			// A changed 個人番号 would be presented as 照合番号A to the surface
			// applet; read only the applet under test.
			d := readAll(t, simSession(t, img), tc.applet == myna.Text, tc.applet == myna.Surface)
			checks := d.checks(store)
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

// The unsigned fields change without any check failing: they are reported
// as read, and the verdict rests on what J-LIS signed.
func TestSimulatedCardUnsignedFields(t *testing.T) {
	img := defaultImage(t)
	for _, tc := range []tamper{
		{item: "expiry", applet: myna.Surface, fid: myna.SurfaceFace, path: []uint32{0xFF20, 0xDF29}, at: 3},
		{item: "security code image", applet: myna.Surface, fid: myna.SurfaceFace, path: []uint32{0xFF20, 0xDF2A}, at: -1},
		{item: "offset table", applet: myna.Surface, fid: myna.SurfaceFace, path: []uint32{0xFF20, 0xDF21}, at: 1},
		{item: "face filler", applet: myna.Surface, fid: myna.SurfaceFace, at: 0},
		{item: "attributes offset table", applet: myna.Text, fid: myna.TextAttributes, path: []uint32{0xFF20, 0xDF21}, at: 1},
	} {
		tc.apply(t, img)
	}
	d := readAll(t, simSession(t, img), true, true)
	if v := trust.Decide(d.checks(simStore(t))); v != trust.Genuine {
		t.Fatalf("verdict %s: %+v", v, d.checks(simStore(t)))
	}
	if d.surface.ExpiryDate != "2034-02-17" {
		t.Errorf("expiry %s: the changed (unsigned) date is what the card holds", d.surface.ExpiryDate)
	}
}
