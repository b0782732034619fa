package simulator_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/tlv"
)

func newCard(t testing.TB, opts ...simulator.Option) *simulator.Card {
	t.Helper()
	img, err := persona.Build(persona.Default())
	if err != nil {
		t.Fatal(err)
	}
	c, err := simulator.New(img, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// send transmits hex APDUs in order and returns the last response as hex.
func send(t testing.TB, c *simulator.Card, apdus ...string) string {
	t.Helper()
	var last []byte
	for _, a := range apdus {
		b, err := hex.DecodeString(strings.ReplaceAll(a, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		if last, err = c.Transmit(context.Background(), b); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	return strings.ToUpper(hex.EncodeToString(last))
}

const (
	selJPKI    = "00A4040C0AD392F000260100000001"
	selText    = "00A4040C0AD3921000310001010408"
	selSurface = "00A4040C0AD3921000310001010402"
	selCommon  = "00A4040C0AD3921000310001010100"
	selISD     = "00A4040C07A0000001510000"
)

// TestStatusWords walks the behaviours of docs/card.md §7.4 and §9.
func TestStatusWords(t *testing.T) {
	cases := []struct {
		name   string
		apdus  []string
		wantSW string
	}{
		{"select JPKI", []string{selJPKI}, "9000"},
		{"unknown AID", []string{"00A4040C05A000000001"}, "6A82"},
		{"unknown EF", []string{selJPKI, "00A4020C020099"}, "6A82"},
		{"select MF after reset", []string{"00A40000"}, "6A86"},
		{"select MF inside an AP", []string{selJPKI, "00A40000"}, "9000"},
		{"select 3F00", []string{selJPKI, "00A4000C023F00"}, "6A82"},
		{"logical channel", []string{"01A4040C0AD392F000260100000001"}, "6881"},
		{"SM on SELECT", []string{"08A4040C0AD392F000260100000001"}, "6882"},
		{"SM on READ", []string{selJPKI, "08B0000004"}, "69FC"},
		{"unknown INS", []string{selJPKI, "00FE000000"}, "6D00"},
		{"unknown CLA", []string{"A0A4040C0AD392F000260100000001"}, "6E00"},
		{"bad length", []string{"00A4040C0AD392F0002601"}, "6700"},
		{"read without EF", []string{selJPKI, "00B0000004"}, "6986"},
		{"read past end", []string{selJPKI, "00A4020C020008", "00B0000304"}, "6B00"},
		{"short file read", []string{selJPKI, "00A4020C020008", "00B0000000"}, "8F8F009000"},
		{"read key EF", []string{selJPKI, "00A4020C020018", "00B0000004"}, "6981"},
		{"protected EF", []string{selText, "00A4020C020001", "00B0000000"}, "6982"},
		{"read by SFI", []string{selJPKI, "00B0880003"}, "8F8F009000"},
		{"tries query", []string{selJPKI, "00200098"}, "63C3"},
		{"tries query with Le", []string{selJPKI, "0020009800"}, "6700"},
		{"blocked key 0012 query", []string{selText, "00200092"}, "63C0"},
		{"blocked key 0012 verify", []string{selText, "002000920431323334"}, "6984"},
		{"sign without PIN", []string{selJPKI, "00A4020C020017", "802A0080033031320000"[:16] + "00"}, "6982"},
		{"sign with bad P1", []string{selJPKI, "00A4020C020017", "802A0680033031320000"[:16] + "00"}, "6A86"},
		{"change without verify", []string{selJPKI, "00A4020C020018", "002401800435363738"}, "6982"},
		{"get challenge extended", []string{selJPKI, "00840000000010"}, "6985"},
		{"GET DATA in an AP", []string{selJPKI, "00CA00F000"}, "6A88"},
		{"GET DATA absent", []string{selISD, "00CA123400"}, "6A88"},
		{"GET DATA big, short Le", []string{selISD, "00CA00F800"}, "6700"},
		{"80 FC", []string{"80FC0000"}, "6700"},
		{"80 A2", []string{selJPKI, "80A2000000"}, "6A86"},
		{"set session key, surface", []string{selSurface, "80AE000000"}, "66F1"},
		{"set session key, JPKI", []string{selJPKI, "80AE000000"}, "6982"},
		{"internal authenticate, JPKI key", []string{selJPKI, "008800970401020304" + "00"}, "6982"},
		{"internal authenticate, surface card key", []string{selSurface, "0088009A0401020304" + "00"}, "6985"},
		{"record 0", []string{selCommon, "00B2000C00"}, "6A86"},
		{"absent record", []string{selCommon, "00B2090C00"}, "6A83"},
		{"multi-record read", []string{selCommon, "00B2010D00"}, "6A81"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := send(t, newCard(t), c.apdus...)
			if !strings.HasSuffix(got, c.wantSW) {
				t.Fatalf("got %s, want …%s", got, c.wantSW)
			}
		})
	}
}

func TestRetryCounter(t *testing.T) {
	c := newCard(t)
	send(t, c, selJPKI, "00A4020C020018")
	for i, want := range []string{"63C2", "63C1", "63C0", "6984"} {
		if got := send(t, c, "002000800439393939"); got != want {
			t.Fatalf("wrong PIN %d: %s, want %s", i+1, got, want)
		}
	}
	if got := send(t, c, "002000800431323334"); got != "6984" {
		t.Fatalf("right PIN on a blocked key: %s", got)
	}
	if left, max, _ := c.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 0 || max != 3 {
		t.Fatalf("KeyState %d/%d", left, max)
	}
}

func TestVerifyResetsAndSelectionClears(t *testing.T) {
	c := newCard(t)
	send(t, c, selText, "00A4020C020011")
	if got := send(t, c, "002000800439393939"); got != "63C2" {
		t.Fatal(got)
	}
	if got := send(t, c, "002000800431323334"); got != "9000" {
		t.Fatal(got)
	}
	if got := send(t, c, "00200080"); got != "63C3" {
		t.Fatalf("counter not back at 3: %s", got)
	}
	// EF selection keeps the verification, AP selection drops it.
	if got := send(t, c, "00A4020C020001", "00B0000000"); !strings.HasSuffix(got, "9000") || !strings.Contains(got, hex.EncodeToString([]byte("537686677188"))[:10]) && !strings.Contains(got, "353337363836363737313838") {
		t.Fatalf("read after verify: %s", got)
	}
	if got := send(t, c, selText, "00A4020C020001", "00B0000000"); got != "6982" {
		t.Fatalf("after reselect: %s", got)
	}
	if err := c.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := send(t, c, "00CA00F000"); !strings.HasSuffix(got, "9000") {
		t.Fatalf("GET DATA after reset: %s", got)
	}
}

func TestReadWithApduCard(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []apdu.ExtendedMode{apdu.ExtendedAlways, apdu.ExtendedNever} {
		c := newCard(t)
		card := apdu.NewCard(c, apdu.WithExtendedLength(mode))
		if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
			t.Fatal(err)
		}
		der, err := card.ReadObject(ctx, myna.JPKIAuthCert)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			t.Fatalf("mode %d: %v", mode, err)
		}
		want := int64(4)
		if mode == apdu.ExtendedNever {
			want = 3 + int64((len(der)-8+255)/256)
		}
		if c.APDUs() != want {
			t.Errorf("mode %d: %d APDUs for %d bytes, want %d", mode, c.APDUs(), len(der), want)
		}
	}
}

func TestChainingFaultMode(t *testing.T) {
	ctx := context.Background()
	c := newCard(t, simulator.WithChaining(true))
	card := apdu.NewCard(c)
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		t.Fatal(err)
	}
	der, err := card.ReadObject(ctx, myna.JPKIAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	if c.APDUs() <= 4 {
		t.Fatalf("%d APDUs: chaining did not happen", c.APDUs())
	}
}

func TestSignSchemes(t *testing.T) {
	ctx := context.Background()
	c := newCard(t)
	card := apdu.NewCard(c)
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		t.Fatal(err)
	}
	certDER, err := card.ReadObject(ctx, myna.JPKIAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(certDER)
	pub := cert.PublicKey.(*rsa.PublicKey)
	if err := card.Verify(ctx, apdu.KeySFI(myna.JPKIAuthPIN), []byte("1234")); err != nil {
		t.Fatal(err)
	}
	msg := []byte("sign me")
	h := sha256.Sum256(msg)
	di := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, h[:]...)
	for _, s := range []struct {
		p1    byte
		input []byte
		check func(sig []byte) error
	}{
		{0x00, di, func(sig []byte) error { return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) }},
		{0x02, h[:], func(sig []byte) error { return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) }},
		{0x03, msg, func(sig []byte) error { return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) }},
		{0x01, msg, func(sig []byte) error { return rsa.VerifyPKCS1v15(pub, crypto.Hash(0), h[:], sig) }},
		{0x04, h[:], func(sig []byte) error { return rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, nil) }},
		{0x05, msg, func(sig []byte) error { return rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, nil) }},
	} {
		sig, err := card.ComputeSignature(ctx, s.p1, apdu.KeySFI(myna.JPKIAuthKey), s.input)
		if err != nil {
			t.Fatalf("P1 %02X: %v", s.p1, err)
		}
		if err := s.check(sig); err != nil {
			t.Errorf("P1 %02X: %v", s.p1, err)
		}
	}
	// PKCS#1 v1.5 is deterministic, as on the card.
	a, _ := card.ComputeSignature(ctx, 0, apdu.KeySFI(myna.JPKIAuthKey), di)
	b, _ := card.ComputeSignature(ctx, 0, apdu.KeySFI(myna.JPKIAuthKey), di)
	if !bytes.Equal(a, b) {
		t.Error("P1 00 signatures differ")
	}
	if _, err := card.ComputeSignature(ctx, 0x02, apdu.KeySFI(myna.JPKIAuthKey), h[:20]); !errors.Is(err, apdu.ErrWrongLength) {
		t.Errorf("wrong-size input: %v", err)
	}
}

func TestGetChallengeLengths(t *testing.T) {
	c := newCard(t)
	card := apdu.NewCard(c)
	for _, n := range []int{1, 16, 255, 256} {
		b, err := card.GetChallenge(context.Background(), n)
		if err != nil || len(b) != n {
			t.Fatalf("%d: %d bytes, %v", n, len(b), err)
		}
	}
}

func TestRemovalFault(t *testing.T) {
	c := newCard(t, simulator.WithRemovalAfter(2))
	send(t, c, selJPKI, "00A4020C020018")
	if _, err := c.Transmit(context.Background(), []byte{0x00, 0x20, 0x00, 0x80, 0x04, '9', '9', '9', '9'}); !errors.Is(err, apdu.ErrCardRemoved) {
		t.Fatalf("third APDU: %v", err)
	}
	if c.Present() {
		t.Fatal("card still present")
	}
	// The interrupted VERIFY was counted (the default).
	if left, _, _ := c.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 2 {
		t.Fatalf("%d tries left after an interrupted wrong VERIFY, want 2", left)
	}
	c.Insert()
	if got := send(t, c, selJPKI); got != "9000" {
		t.Fatalf("after reinsertion: %s", got)
	}
}

func TestInterruptedVerifyNotCounted(t *testing.T) {
	c := newCard(t, simulator.WithRemovalAfter(1), simulator.WithInterruptedVerifyCounted(false))
	send(t, c, selJPKI)
	_, _ = c.Transmit(context.Background(), []byte{0x00, 0x20, 0x00, 0x98, 0x04, '9', '9', '9', '9'})
	if left, _, _ := c.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 3 {
		t.Fatalf("%d tries left, want 3", left)
	}
}

func TestCorruptionAndFault(t *testing.T) {
	c := newCard(t, simulator.WithCorruption(1))
	clean := newCard(t)
	a := send(t, c, selJPKI, "00A4020C020008", "00B0000003")
	b := send(t, clean, selJPKI, "00A4020C020008", "00B0000003")
	if a == b {
		t.Fatal("response not corrupted")
	}
	f := newCard(t, simulator.WithFault(func(cmd apdu.Command) (uint16, bool) { return 0x6F00, cmd.INS == 0xB0 }))
	if got := send(t, f, selJPKI, "00A4020C020008", "00B0000003"); got != "6F00" {
		t.Fatalf("fault hook: %s", got)
	}
}

func TestChangeReferenceData(t *testing.T) {
	c := newCard(t)
	send(t, c, selJPKI, "00A4020C020018", "002000800431323334")
	if got := send(t, c, "002401800435363738"); got != "9000" {
		t.Fatal(got)
	}
	if got := send(t, c, selJPKI, "002000980431323334"); got != "63C2" {
		t.Fatalf("old PIN after change: %s", got)
	}
	if got := send(t, c, "002000980435363738"); got != "9000" {
		t.Fatalf("new PIN: %s", got)
	}
	snap := c.Snapshot()
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPresenceProofAndInternalAuthenticate(t *testing.T) {
	c := newCard(t)
	got := send(t, c, selCommon, "00880099080102030405060708"+"00")
	if len(got) != 2*258 || !strings.HasSuffix(got, "9000") {
		t.Fatalf("internal authenticate: %d hex chars", len(got))
	}
	r := send(t, c, selSurface, "0084000010")
	if len(r) != 36 {
		t.Fatalf("challenge %s", r)
	}
}

// FuzzTransmit feeds random APDUs to a card: it must never panic and must
// always answer with at least a status word.
func FuzzTransmit(f *testing.F) {
	img, err := persona.Build(persona.Default())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{selJPKI, "00A4020C02000A", "00B0000000", "00200098", "802A00800100", "00B2010C00", "00CA00F8000000"} {
		b, _ := hex.DecodeString(s)
		f.Add(b, b)
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		c, err := simulator.New(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]byte{[]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}, first, second} {
			r, err := c.Transmit(context.Background(), cmd)
			if err != nil || len(r) < 2 {
				t.Fatalf("%x: %x, %v", cmd, r, err)
			}
		}
	})
}

func BenchmarkTransmitSelect(b *testing.B) {
	c := newCard(b)
	cmd, _ := hex.DecodeString("00A4020C02000A")
	send(b, c, selJPKI)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Transmit(ctx, cmd); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "APDU/s")
}

func BenchmarkReadCertificate(b *testing.B) {
	c := newCard(b)
	card := apdu.NewCard(c)
	ctx := context.Background()
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		b.Fatal(err)
	}
	start := c.APDUs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := card.ReadObject(ctx, myna.JPKIAuthCert); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.APDUs()-start)/b.Elapsed().Seconds(), "APDU/s")
}

// The link profiles' figures are the ones the benchmarks report against:
// about 1.02 ms per byte at the default contact rate, a quarter of it with
// TA1 = 13, 47 µs contactless; chaining adds frames and acknowledgements.
func TestLinkProfiles(t *testing.T) {
	want := map[string][2]float64{"contact": {1.02, 1.03}, "contact-fast": {0.25, 0.26}, "contactless": {0.047, 0.048}}
	for _, l := range simulator.Links() {
		ms := float64(l.ByteTime) / float64(time.Millisecond)
		if w := want[l.Name]; ms < w[0] || ms > w[1] {
			t.Errorf("%s: %.4f ms per byte", l.Name, ms)
		}
		// A 2000-byte response takes more frames than a 200-byte one: the
		// cost grows by more than its bytes alone.
		short, long := l.Cost(5, 200, 0xB0), l.Cost(7, 2000, 0xB0)
		if long-short <= 1800*l.ByteTime {
			t.Errorf("%s: chaining costs nothing (%v vs %v)", l.Name, short, long)
		}
		if l.Cost(9, 2, 0x20) <= l.Cost(4, 2, 0x20) || l.Cost(56, 258, 0x2A) < 150*time.Millisecond {
			t.Errorf("%s: card times not added", l.Name)
		}
	}
	if _, err := simulator.ParseLink("carrier-pigeon"); err == nil {
		t.Error("unknown profile accepted")
	}
	// A metered card adds the modelled time without waiting for it.
	m := simulator.NewLinkMeter(simulator.Links()[0])
	c := newCard(t, simulator.WithLinkMeter(m))
	send(t, c, "00A4040C0AD392F000260100000001")
	if m.Elapsed() < 20*time.Millisecond {
		t.Errorf("metered %v", m.Elapsed())
	}
}

// Each card-surface applet proves its own presence (docs/card.md §5.8,
// §5.9): in the text applet, P2 00 names key 0013, whose public half is
// EF 0007's DF51, and the card signs the host's DigestInfo of
// SHA-256(R ‖ N) without any credential.
func TestTextAppletSignsWithItsEF0007Key(t *testing.T) {
	ctx := context.Background()
	sc := newCard(t)
	card := apdu.NewCard(sc)
	if err := card.SelectAID(ctx, myna.Text.AID()); err != nil {
		t.Fatal(err)
	}
	r, err := card.GetChallenge(ctx, 16)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(r, []byte("the host's fresh nonce N........")...))
	di := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, sum[:]...)
	sig, err := card.ComputeSignature(ctx, 0x00, 0x00, di)
	if err != nil {
		t.Fatalf("the text applet refused to sign without a credential: %v", err)
	}
	// EF 0007 opens with the PIN; its DF51 is the key that signed.
	if err := card.Verify(ctx, apdu.KeySFI(myna.TextPIN), []byte("1234")); err != nil {
		t.Fatal(err)
	}
	ef, err := card.ReadObjectSFI(ctx, myna.TextSignedKey, myna.ObjectSize(myna.Text, myna.TextSignedKey))
	if err != nil {
		t.Fatal(err)
	}
	obj, _, err := tlv.Parse(ef)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := obj.Children()
	if err != nil || len(kids) != 2 || kids[0].Tag != 0xDF51 {
		t.Fatalf("EF 0007: %v", err)
	}
	mod, _, err := tlv.Parse(kids[0].Value[5:]) // 90 03 01 00 01, then 91 82 01 00 ‖ modulus
	if err != nil || mod.Tag != 0x91 {
		t.Fatalf("DF51: %v", err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(mod.Value), E: 65537}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the text applet's signature does not verify with its EF 0007 key: %v", err)
	}
	// The card face's key is another key: the two proofs are two chips'
	// worth of evidence only because each applet signs with its own.
	if err := card.SelectAID(ctx, myna.Surface.AID()); err != nil {
		t.Fatal(err)
	}
	other, err := card.ComputeSignature(ctx, 0x00, 0x00, di)
	if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], other) == nil {
		t.Fatalf("the card face signed with the text applet's key (%v)", err)
	}
}
