package mynakit_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

// plain hides that a transport is the simulator: the card is judged as a
// card behind a reader is, on J-LIS's anchors only.
type plain struct{ apdu.Transport }

func read(t *testing.T, img *simulator.Image, ro mynakit.ReadOptions, simOpts ...simulator.Option) *mynakit.Report {
	t.Helper()
	r, err := simtest.Read(t, img, ro, simOpts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustCheck(t *testing.T, r *mynakit.Report, name trust.CheckName, want trust.Result) trust.Check {
	t.Helper()
	c, ok := r.Check(name)
	if !ok || c.Result != want {
		v, bad := simtest.Verdict(r)
		t.Fatalf("%s: %+v (present %v), want %s; verdict %s, not passing: %v", name, c, ok, want, v, bad)
	}
	return c
}

func TestDefaultCardIsGenuine(t *testing.T) {
	p := simtest.NewPrompter(simtest.PIN)
	c := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: p})
	r, err := c.Read(context.Background(), mynakit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, bad := simtest.Verdict(r); v != trust.Genuine {
		t.Fatalf("verdict %s: %v", v, bad)
	}
	if p.Count() != 1 {
		t.Fatalf("%d prompts, want one", p.Count())
	}
	d := persona.Default()
	if r.Text.MyNumber.Reveal() != string(d.MyNumber) || r.Text.Name != d.Name || r.Surface.BirthDate.String() != d.BirthDate || r.Common.Serial != d.Serial {
		t.Errorf("facts %+v %+v %+v", r.Text, r.Surface, r.Common)
	}
	// Every fact shown is tied to the chip.
	for _, n := range []trust.CheckName{trust.CheckPresenceSurface, trust.CheckBindingCodeA, trust.CheckCardApplets, trust.CheckCardToken, trust.CheckBirthDate, trust.CheckSex, trust.CheckExpiry} {
		mustCheck(t, r, n, trust.Pass)
	}
	if r.JPKI.KeyProven || r.JPKI.Status() != "certificate valid, key not proven" {
		t.Errorf("JPKI part %q without the key proof", r.JPKI.Status())
	}
	if !r.TestAnchors() || len(r.Anchors) == 0 {
		t.Errorf("a verdict on the simulator's anchors must say so: %+v", r.Anchors)
	}
	for _, a := range r.Anchors {
		if a.Production {
			t.Errorf("anchor %q marked production", a.Name)
		}
	}
}

// Seen as a card behind a reader, the simulator's test hierarchy is not
// trusted: unknown, never genuine.
func TestTestAnchorsOnlyForTheSimulator(t *testing.T) {
	c, err := mynakit.OpenTransport(plain{simtest.Sim(t, simtest.Image(t))}, "a reader", mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Read(context.Background(), mynakit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != trust.Undecided {
		t.Fatalf("verdict %s", r.Verdict)
	}
	// Named explicitly, they are trusted — and still marked as test anchors.
	c2, err := mynakit.OpenTransport(plain{simtest.Sim(t, simtest.Image(t))}, "a reader", mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN), TrustDirs: []string{simtest.TrustDir(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	r, err = c2.Read(context.Background(), mynakit.ReadOptions{})
	if err != nil || r.Verdict != trust.Genuine || !r.TestAnchors() {
		t.Fatalf("with --trust-dir: %v %s test=%v", err, r.Verdict, r.TestAnchors())
	}
}

// Finding 1: a clone that replays one recorded challenge and signature,
// and holds none of the card's keys, is not genuine: the host's nonce is
// under every presence proof.
func TestReplayingCloneIsNotGenuine(t *testing.T) {
	clone := simtest.Clone(t, simtest.Image(t))
	r := read(t, clone, mynakit.ReadOptions{})
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("verdict %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckPresenceSurface, trust.Fail)
	mustCheck(t, r, trust.CheckBindingCodeA, trust.Fail)
	// Text alone: its own presence proof fails the same way.
	r = read(t, clone, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartText}})
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("text only: verdict %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckPresenceText, trust.Fail)
}

// Finding 2: a missing applet fails, and a read of public data alone is
// not proof of anything.
func TestMissingAppletsAndUntiedParts(t *testing.T) {
	// Issue 14, finding 9: the read learns the card face is missing before
	// it asks for the PIN, so it asks for none and spends no try.
	noFace := simtest.Image(t)
	delete(noFace.Applets, simtest.AID(myna.Surface))
	p := simtest.NewPrompter(simtest.PIN)
	r, err := simtest.Open(t, simtest.Sim(t, noFace), mynakit.OpenOptions{Prompter: p}).Read(context.Background(), mynakit.ReadOptions{})
	if err != nil || r.Verdict != trust.NotGenuine || r.Text != nil || p.Count() != 0 {
		t.Fatalf("without the card-face applet: %v %s, text read %v, %d prompts", err, r.Verdict, r.Text != nil, p.Count())
	}
	mustCheck(t, r, trust.CheckCardApplets, trust.Fail)

	jpkiOnly := simtest.Image(t)
	for _, a := range []myna.Applet{myna.Text, myna.Surface, myna.Common, myna.Juki} {
		delete(jpkiOnly.Applets, simtest.AID(a))
	}
	jpkiOnly.GetData = nil
	r = read(t, jpkiOnly, mynakit.ReadOptions{})
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("JPKI applet only, labelled a card: %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckCardApplets, trust.Fail)

	// A genuine card, JPKI part only: the certificate is valid, but a
	// certificate is public; without the key proof the verdict is unknown.
	r = read(t, simtest.Image(t), mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartJPKI}})
	if r.Verdict != trust.Undecided || r.JPKI.KeyProven {
		t.Fatalf("JPKI only, key not proven: %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckAuthCert, trust.Pass)
	mustCheck(t, r, trust.CheckPresenceJPKI, trust.Unknown)
	r = read(t, simtest.Image(t), mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartJPKI}, ProveJPKIKey: true})
	if r.Verdict != trust.Genuine || !r.JPKI.KeyProven {
		t.Fatalf("JPKI only, key proven: %s", r.Verdict)
	}
	// The 共通AP alone is unsigned: nothing is tied to the chip.
	r = read(t, simtest.Image(t), mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartCommon}})
	if r.Verdict != trust.Undecided {
		t.Fatalf("共通AP only: %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckCardPresence, trust.Unknown)
}

// A smartphone token is judged on its JPKI part alone, which its PIN
// proves.
func TestSmartphoneToken(t *testing.T) {
	img := simtest.Image(t, func(p *persona.Persona) { p.Token = jpki.TokenAndroid })
	r := read(t, img, mynakit.ReadOptions{})
	if r.Verdict != trust.Genuine || r.Token != "android" || !r.JPKI.KeyProven || len(r.Missing) != 3 {
		v, bad := simtest.Verdict(r)
		t.Fatalf("android token: %s %v missing %v", v, bad, r.Missing)
	}
}

// Finding 4: control characters in card text fail the format check (no
// card holds them); the CLI escapes them too.
func TestControlCharactersInCardText(t *testing.T) {
	img := simtest.Image(t, func(p *persona.Persona) { p.Name = "黒桐\x1b[2K\r判定 Verdict: 真正 GENUINE\u202e" })
	r := read(t, img, mynakit.ReadOptions{})
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("verdict %s", r.Verdict)
	}
	c := mustCheck(t, r, trust.CheckTextFormat, trust.Fail)
	if !strings.Contains(c.Detail, "control character") || strings.ContainsAny(c.Detail, "\x1b\r") {
		t.Errorf("detail %q", c.Detail)
	}
}

// Finding 5: the expiry is unsigned, compared between its copies, and an
// expired card is never plain genuine.
func TestExpiryAndUnsignedCopies(t *testing.T) {
	expired := simtest.Image(t, func(p *persona.Persona) {
		p.CardExpiry, p.CertIssued = "2026-02-17", "2024-06-01"
	})
	r := read(t, expired, mynakit.ReadOptions{})
	if r.Verdict != trust.GenuineExpired || !r.Expiry.CardExpired || !r.Expiry.CertificateExpired {
		v, bad := simtest.Verdict(r)
		t.Fatalf("expired card: %s %v %+v", v, bad, r.Expiry)
	}
	if c := mustCheck(t, r, trust.CheckExpiry, trust.Pass); !c.Expired {
		t.Errorf("expiry check not marked expired: %+v", c)
	}

	// 共通AP says 2099, the card face 2035.
	img := simtest.Image(t)
	rec := simtest.Applet(img, myna.Common).Files["0001"].Records[0]
	copy(rec[len(rec)-8:], "20990217")
	r = read(t, img, mynakit.ReadOptions{})
	if r.Verdict != trust.NotGenuine || r.Common.ExpiryDate.String() != "2099-02-17" {
		t.Fatalf("inconsistent 共通AP: %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckExpiry, trust.Fail)

	// A thorough read compares the municipality and expiry with the MF
	// copies too.
	img = simtest.Image(t)
	img.GetData["00F0"] = []byte("13101")
	r = read(t, img, mynakit.ReadOptions{Thorough: true})
	mustCheck(t, r, trust.CheckMunicipality, trust.Fail)
}

// Finding 6: malformed content under a signature is not genuine — never an
// error — and a My Number the data shows wrong is never sent to the card.
func TestMalformedSignedContent(t *testing.T) {
	cases := []struct {
		name  string
		forge func(t *testing.T, img *simulator.Image)
		check trust.CheckName
	}{
		{"bad date in a signed field", func(t *testing.T, img *simulator.Image) {
			simtest.SetTextAttributes(t, img, "", "", "19801341", "")
		}, trust.CheckTextFormat},
		{"short digest", func(t *testing.T, img *simulator.Image) { simtest.ResignText(t, img, 16) }, trust.CheckTextFormat},
		{"truncated CV certificate", func(t *testing.T, img *simulator.Image) {
			cv := simtest.EF(t, img, myna.Text, myna.TextCVCert)
			simtest.SetEF(t, img, myna.Text, myna.TextCVCert, cv[:300])
		}, trust.CheckTextCV},
		{"changed 個人番号 digit", func(t *testing.T, img *simulator.Image) {
			simtest.EF(t, img, myna.Text, myna.TextMyNumber)[5] ^= 0x01 // '6' -> '7'
		}, trust.CheckTextMyNumberDigest},
		{"changed 個人番号 digit, re-signed", func(t *testing.T, img *simulator.Image) {
			simtest.EF(t, img, myna.Text, myna.TextMyNumber)[5] ^= 0x01
			simtest.ResignText(t, img, 0)
		}, trust.CheckTextCheckDigit},
		{"non-digit in the 個人番号", func(t *testing.T, img *simulator.Image) {
			simtest.EF(t, img, myna.Text, myna.TextMyNumber)[7] = 'x'
		}, trust.CheckTextFormat},
		{"sex out of JIS X 0303", func(t *testing.T, img *simulator.Image) {
			simtest.SetTextAttributes(t, img, "", "", "", "7")
		}, trust.CheckTextFormat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := simtest.Image(t)
			tc.forge(t, img)
			var codeA int
			count := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
				if c.INS == 0x20 && len(c.Data) > 0 && (c.P2 == apdu.KeySFI(myna.SurfaceCodeA) || c.P2 == apdu.KeySFI(myna.TextCodeA)) {
					codeA++
				}
				return 0, false
			})
			r, err := simtest.Read(t, img, mynakit.ReadOptions{}, count)
			if err != nil {
				t.Fatalf("an error for bad data: %v", err)
			}
			if r.Verdict != trust.NotGenuine {
				t.Fatalf("verdict %s", r.Verdict)
			}
			mustCheck(t, r, tc.check, trust.Fail)
			if strings.Contains(tc.name, "個人番号") && codeA != 0 {
				t.Fatalf("%d VERIFY of 照合番号A sent with a My Number the data shows wrong", codeA)
			}
		})
	}
}

// Finding 6, last part: a card that answers but refuses to sign the
// presence challenge fails the check (not unknown).
func TestRefusedPresenceProofFails(t *testing.T) {
	refuse := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		return 0x6982, c.CLA == 0x80 && c.INS == 0x2A && c.P2 == 0x00
	})
	r := read(t, simtest.Image(t), mynakit.ReadOptions{}, refuse)
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("verdict %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckPresenceSurface, trust.Fail)
}

// Finding 8: a CV CA key verifies only its own role.
func TestCVCertificateOfTheWrongRole(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		id        persona.KeyID
	}{{"card-face CA key", "cv-surface-ca", persona.IDCVSurfaceCA}, {"card-level root", "cv-root", persona.IDCVRoot}} {
		img := simtest.Image(t)
		simtest.ReissueCV(t, img, myna.Text, tc.key, tc.id)
		r := read(t, img, mynakit.ReadOptions{})
		if r.Verdict != trust.NotGenuine {
			t.Fatalf("%s: verdict %s", tc.name, r.Verdict)
		}
		if c := mustCheck(t, r, trust.CheckTextCV, trust.Fail); !strings.Contains(c.Detail, "key is required") {
			t.Errorf("%s: %q", tc.name, c.Detail)
		}
	}
	// The same key in its own role passes: the test is of the role.
	img := simtest.Image(t)
	simtest.ReissueCV(t, img, myna.Text, "cv-text-ca", persona.IDCVTextCA)
	if r := read(t, img, mynakit.ReadOptions{}); r.Verdict != trust.Genuine {
		t.Fatalf("re-issued by its own CA: %s", r.Verdict)
	}
}

// Finding 9: a reset by another application is retried once with the
// secrets held (no second prompt); a second reset is reported as a reset;
// a card pulled during any step is reported as removed.
func TestTransportFaults(t *testing.T) {
	ctx := context.Background()
	p := simtest.NewPrompter(simtest.PIN)
	c := simtest.Open(t, simtest.Sim(t, simtest.Image(t), simulator.WithResetAt(8)), mynakit.OpenOptions{Prompter: p})
	r, err := c.Read(ctx, mynakit.ReadOptions{})
	if err != nil || r.Verdict != trust.Genuine || p.Count() != 1 {
		t.Fatalf("one reset: %v, %d prompts", err, p.Count())
	}
	c = simtest.Open(t, simtest.Sim(t, simtest.Image(t), simulator.WithResetAt(6, 14)), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN)})
	if _, err := c.Read(ctx, mynakit.ReadOptions{}); !errors.Is(err, apdu.ErrCardReset) {
		t.Fatalf("two resets: %v", err)
	}

	// Find the presence proof's GET CHALLENGE, then pull the card there.
	var ins []byte
	logAll := simulator.WithFault(func(c apdu.Command) (uint16, bool) { ins = append(ins, c.INS); return 0, false })
	read(t, simtest.Image(t), mynakit.ReadOptions{}, logAll)
	at := strings.IndexByte(string(ins), 0x84)
	if at < 0 {
		t.Fatal("no GET CHALLENGE in a read")
	}
	_, err = simtest.Read(t, simtest.Image(t), mynakit.ReadOptions{}, simulator.WithRemovalAfter(at))
	if !errors.Is(err, apdu.ErrCardRemoved) {
		t.Fatalf("pulled during the presence proof: %v", err)
	}
}

// txWatch is a transport with transactions that records whether one is
// held.
type txWatch struct {
	apdu.Transport
	held bool
}

func (w *txWatch) Begin(ctx context.Context) error { w.held = true; return ctx.Err() }
func (w *txWatch) End() error                      { w.held = false; return nil }

// Finding 10: no prompt runs inside a transaction, and a cancelled prompt
// ends the read at once.
func TestPromptsOutsideTransactions(t *testing.T) {
	w := &txWatch{Transport: simtest.Sim(t, simtest.Image(t))}
	var heldAtPrompt []bool
	p := simtest.NewPrompter(simtest.PIN)
	p.During = func() { heldAtPrompt = append(heldAtPrompt, w.held) }
	c, err := mynakit.OpenTransport(w, "watched", mynakit.OpenOptions{Prompter: p, TrustDirs: []string{simtest.TrustDir(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Read(context.Background(), mynakit.ReadOptions{})
	if err != nil || r.Verdict != trust.Genuine {
		t.Fatalf("%v %v", err, r)
	}
	if len(heldAtPrompt) != 1 || heldAtPrompt[0] {
		t.Fatalf("transaction held at the prompt: %v", heldAtPrompt)
	}

	ctx, cancel := context.WithCancel(context.Background())
	block := &blockingPrompter{started: make(chan struct{})}
	c2 := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: block})
	done := make(chan error, 1)
	go func() { _, err := c2.Read(ctx, mynakit.ReadOptions{}); done <- err }()
	<-block.started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled at the prompt: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read did not end when its context was cancelled at the prompt")
	}
}

type blockingPrompter struct{ started chan struct{} }

func (b *blockingPrompter) Prompt(ctx context.Context, _ pin.Request) ([]byte, error) {
	close(b.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

// Finding 11: raw APDUs that carry a secret are refused unless allowed.
func TestTransmitRefusesSecrets(t *testing.T) {
	sim := simtest.Sim(t, simtest.Image(t))
	c := simtest.Open(t, sim, mynakit.OpenOptions{})
	ctx := context.Background()
	sel := []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}
	verify := []byte{0x00, 0x20, 0x00, 0x98, 0x04, '9', '9', '9', '9'}
	if _, err := c.Transmit(ctx, [][]byte{sel, verify}, false); !errors.Is(err, pin.ErrSecretInAPDU) {
		t.Fatalf("VERIFY with data: %v", err)
	}
	if left, _, _ := sim.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 3 {
		t.Fatalf("a try was spent: %d left", left)
	}
	for _, cmd := range [][]byte{{0x00, 0x24, 0x01, 0x80, 0x04, '1', '2', '3', '4'}, {0x80, 0x32, 0x00, 0x80, 0x04, '1', '2', '3', '4'}} {
		if !pin.CarriesSecret(cmd) {
			t.Errorf("% X not seen as carrying a secret", cmd)
		}
	}
	query := []byte{0x00, 0x20, 0x00, 0x98}
	resps, err := c.Transmit(ctx, [][]byte{sel, query}, false)
	if err != nil || len(resps) != 2 || string(resps[1]) != "\x63\xC3" {
		t.Fatalf("tries query: % X %v", resps, err)
	}
	if resps, err = c.Transmit(ctx, [][]byte{sel, verify}, true); err != nil || resps[1][0] != 0x63 {
		t.Fatalf("allowed VERIFY: % X %v", resps, err)
	}
}

// A card whose authentication certificate a CRL revokes is genuine but
// never plain genuine; a stale CRL cannot clear it.
func TestRevokedCertificate(t *testing.T) {
	img := simtest.Image(t)
	r := read(t, img, mynakit.ReadOptions{})
	cert := r.JPKI.AuthCertificate
	root, err := x509.ParseCertificate(simtest.Object(t, simtest.EF(t, img, myna.JPKI, myna.JPKIAuthCACert)).Raw)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	crlOf := func(this, next time.Time) *x509.RevocationList {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(9), ThisUpdate: this, NextUpdate: next,
			RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: cert.SerialNumber, RevocationTime: now.Add(-time.Hour)}}}, root, simtest.Key(t, "jpki-auth-root"))
		if err != nil {
			t.Fatal(err)
		}
		crl, _ := x509.ParseRevocationList(der)
		return crl
	}
	r = read(t, img, mynakit.ReadOptions{CRL: crlOf(now.Add(-time.Minute), now.Add(time.Hour))})
	if r.Verdict != trust.GenuineExpired || !r.Expiry.Revoked {
		t.Fatalf("revoked: %s %+v", r.Verdict, r.Expiry)
	}
	if c := mustCheck(t, r, trust.CheckAuthCert, trust.Pass); !c.Revoked || !c.Expired {
		t.Errorf("check %+v", c)
	}
	r = read(t, img, mynakit.ReadOptions{CRL: crlOf(now.Add(-48*time.Hour), now.Add(-24*time.Hour))})
	if r.Verdict != trust.Undecided {
		t.Fatalf("stale CRL: %s", r.Verdict)
	}
}

// A certificate is public: shown alone it is at best unknown, genuine only
// when the chip signs a fresh nonce with its key, and a keyless clone that
// serves the genuine certificates is not genuine once asked to.
func TestCertificateAloneIsNotProof(t *testing.T) {
	certVerdict := func(img *simulator.Image, kind mynakit.CertKind, prove bool, answers ...string) (trust.Verdict, []trust.Check) {
		t.Helper()
		c := simtest.Open(t, simtest.Sim(t, img), mynakit.OpenOptions{Prompter: simtest.NewPrompter(answers...)})
		rep, err := c.Certificate(context.Background(), kind, mynakit.CertificateOptions{ProveKey: prove, ProveSignKey: prove && kind == mynakit.CertSign})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Verdict, rep.Checks
	}
	genuine := simtest.Image(t)
	if v, checks := certVerdict(genuine, mynakit.CertAuth, false); v != trust.Undecided {
		t.Fatalf("auth certificate without a key proof: %s %+v", v, checks)
	}
	if v, checks := certVerdict(genuine, mynakit.CertAuth, true, simtest.PIN); v != trust.Genuine {
		t.Fatalf("auth certificate with a key proof: %s %+v", v, checks)
	}
	if v, checks := certVerdict(genuine, mynakit.CertSign, true, simtest.SignPassword, simtest.PIN); v != trust.Genuine {
		t.Fatalf("signing certificate with a key proof: %s %+v", v, checks)
	}
	clone := simtest.Clone(t, genuine)
	if v, checks := certVerdict(clone, mynakit.CertAuth, true, simtest.PIN); v != trust.NotGenuine {
		t.Fatalf("auth certificate from a keyless clone: %s %+v", v, checks)
	}
	if v, checks := certVerdict(clone, mynakit.CertSign, true, simtest.SignPassword, simtest.PIN); v != trust.NotGenuine {
		t.Fatalf("signing certificate from a keyless clone: %s %+v", v, checks)
	}
}

// The timestamp authority is a network round trip: it is asked with no
// card transaction held, and the signature it stamps verifies.
func TestTimestampOutsideTransaction(t *testing.T) {
	w := &txWatch{Transport: simtest.Sim(t, simtest.Image(t))}
	c, err := mynakit.OpenTransport(w, "watched", mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.SignPassword), TrustDirs: []string{simtest.TrustDir(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var heldAtTSA []bool
	tsa := func(digest []byte) ([]byte, error) {
		heldAtTSA = append(heldAtTSA, w.held)
		return nil, errors.New("no TSA in this test")
	}
	if _, err := c.SignDocument(context.Background(), []byte("doc"), mynakit.SignOptions{Timestamper: tsa}); err == nil {
		t.Fatal("the TSA's failure was not reported")
	}
	if len(heldAtTSA) != 1 || heldAtTSA[0] {
		t.Fatalf("transaction held while asking the TSA: %v", heldAtTSA)
	}
	sig, err := c.SignDocument(context.Background(), []byte("doc"), mynakit.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := mynakit.VerifySignature([]byte("doc"), sig, mynakit.SignatureOptions{TestAnchors: simtest.Sim(t, simtest.Image(t))})
	if err != nil || rep.Verdict != trust.Genuine {
		t.Fatalf("%v %+v", err, rep)
	}
}

// victimPersona is another holder with the default persona's birth date
// and sex — the two facts the card face's signed data shares with the text
// applet — but their own name, address, My Number and municipality.
func victimPersona(t *testing.T) *persona.Persona {
	t.Helper()
	first11 := "12345678901"
	d, ok := myna.CheckDigit(first11)
	if !ok {
		t.Fatal("check digit")
	}
	v := persona.Default()
	v.Name, v.Kana, v.Address = "両儀　式", "リョウギ　シキ", "東京都三鷹市下連雀１－２－３"
	v.MyNumber = simulator.Secret(first11 + string(d))
	v.Municipality, v.Serial = "13204", "400000099999991"
	return v
}

// shimImage is what an APDU shim in front of the attacker's own genuine
// card serves (issue 14, finding 1): the attacker's card face, which
// "accepts" the victim's My Number as 照合番号A (the shim answers 90 00),
// and a copy of the victim's text applet — every file with its valid J-LIS
// signatures — whose signing key the shim does not have. signWith, when
// set, is the key the shim signs challenges with instead (its own).
func shimImage(t *testing.T, signWith *rsa.PrivateKey) (*simulator.Image, *persona.Persona) {
	t.Helper()
	victim := victimPersona(t)
	own, stolen := simtest.Image(t), simtest.Image(t, func(p *persona.Persona) { *p = *victim })
	text := simtest.Applet(stolen, myna.Text)
	text.PrivateKeys = nil
	if signWith != nil {
		der, err := x509.MarshalPKCS8PrivateKey(signWith)
		if err != nil {
			t.Fatal(err)
		}
		text.PrivateKeys = map[string]string{simulator.FIDString(myna.TextCardKey): string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}
	}
	own.Applets[simtest.AID(myna.Text)] = text
	codeA := victim.MyNumber
	simtest.Applet(own, myna.Surface).Keys[simulator.FIDString(myna.SurfaceCodeA)].Value = &codeA
	return own, victim
}

// Issue 14, finding 1 — the acceptance test: a shim serving another
// person's signed text data beside the attacker's own genuine card face,
// which answers 90 00 to that person's My Number, is not genuine. The text
// applet proves its own presence, always; 照合番号A opens the card face but
// ties nothing.
func TestShimWithAnotherPersonsTextIsNotGenuine(t *testing.T) {
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  *rsa.PrivateKey
	}{{"key-less copy", nil}, {"copy signing with the shim's own key", other}} {
		t.Run(tc.name, func(t *testing.T) {
			img, victim := shimImage(t, tc.key)
			r := read(t, img, mynakit.ReadOptions{})
			if r.Text == nil || r.Text.Name != victim.Name || r.Surface == nil {
				t.Fatalf("the attack did not run as planned: text %+v, surface read %v", r.Text, r.Surface != nil)
			}
			if r.Verdict != trust.NotGenuine {
				v, bad := simtest.Verdict(r)
				t.Fatalf("verdict %s with another person's text data: %v", v, bad)
			}
			// Everything J-LIS signed verifies, the card face proves its
			// chip and answers 90 00 to the victim's My Number, and the
			// facts the two applets share agree: only the text applet's own
			// presence proof catches it.
			for _, n := range []trust.CheckName{trust.CheckTextIntegrity, trust.CheckTextSignedKey, trust.CheckPresenceSurface, trust.CheckBindingCodeA, trust.CheckBirthDate, trust.CheckSex} {
				mustCheck(t, r, n, trust.Pass)
			}
			mustCheck(t, r, trust.CheckPresenceText, trust.Fail)
		})
	}
	// The same shim when only the text part is read, and with 照合番号B
	// opening everything: the text applet's proof fails the same way.
	img, _ := shimImage(t, nil)
	r := read(t, img, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartText}})
	mustCheck(t, r, trust.CheckPresenceText, trust.Fail)
	c := simtest.Open(t, simtest.Sim(t, img), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.CodeB), CodeBFirst: true})
	if r, err = c.Read(context.Background(), mynakit.ReadOptions{}); err != nil || r.Verdict != trust.NotGenuine {
		t.Fatalf("with 照合番号B: %v %v", err, r)
	}
	mustCheck(t, r, trust.CheckPresenceText, trust.Fail)
}

// The text applet's proof runs on every read that shows its facts — also
// when the card face accepted the My Number — and the genuine card passes
// it with one signature per card-surface applet.
func TestTextProvesItsOwnPresence(t *testing.T) {
	var signs []byte
	log := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if c.INS == 0x2A {
			signs = append(signs, c.P2)
		}
		return 0, false
	})
	r := read(t, simtest.Image(t), mynakit.ReadOptions{}, log)
	if r.Verdict != trust.Genuine || len(signs) != 2 {
		t.Fatalf("verdict %s, %d signatures", r.Verdict, len(signs))
	}
	mustCheck(t, r, trust.CheckPresenceText, trust.Pass)
	mustCheck(t, r, trust.CheckBindingCodeA, trust.Pass)
	// A card whose text applet cannot sign is not genuine, though its card
	// face accepted the My Number as 照合番号A.
	img := simtest.Image(t)
	simtest.Applet(img, myna.Text).PrivateKeys = nil
	r = read(t, img, mynakit.ReadOptions{})
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("text applet without its key: %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckBindingCodeA, trust.Pass)
	mustCheck(t, r, trust.CheckPresenceText, trust.Fail)
}

// Issue 14, finding 9: a card without the text applet, read with secrets
// from a list as --pin-stdin gives them, asks for nothing: the PIN line is
// never taken as 照合番号B, no try is spent, and the verdict is not genuine
// (card:applets), not an error.
func TestMissingTextAppletAsksNoSecret(t *testing.T) {
	img := simtest.Image(t)
	delete(img.Applets, simtest.AID(myna.Text))
	var verifies int
	count := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if c.INS == 0x20 && len(c.Data) > 0 {
			verifies++
		}
		return 0, false
	})
	sc := simtest.Sim(t, img, count)
	p := simtest.NewPrompter(simtest.PIN)
	r, err := simtest.Open(t, sc, mynakit.OpenOptions{Prompter: p}).Read(context.Background(), mynakit.ReadOptions{})
	if err != nil {
		t.Fatalf("an error for a card that lacks an applet: %v", err)
	}
	if p.Count() != 0 || verifies != 0 {
		t.Fatalf("%d prompts (%v), %d VERIFY with a value", p.Count(), p.Asked, verifies)
	}
	if r.Verdict != trust.NotGenuine || r.Surface != nil {
		t.Fatalf("verdict %s, card face read %v", r.Verdict, r.Surface != nil)
	}
	if c := mustCheck(t, r, trust.CheckCardApplets, trust.Fail); !strings.Contains(c.Detail, "券面事項入力補助AP") {
		t.Errorf("card:applets %q does not name the text applet", c.Detail)
	}
	for _, k := range myna.AllKeys() {
		if left, max, ok := sc.KeyState(k.Applet, k.FID); ok && left < max {
			t.Errorf("%s: %d of %d tries left", k.Name, left, max)
		}
	}
	// The same with 照合番号B first, and for a card face read alone.
	for _, tc := range []struct {
		name string
		oo   mynakit.OpenOptions
		ro   mynakit.ReadOptions
	}{
		{"照合番号B first", mynakit.OpenOptions{CodeBFirst: true}, mynakit.ReadOptions{}},
		{"card face alone", mynakit.OpenOptions{}, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartSurface}}},
	} {
		p := simtest.NewPrompter(simtest.CodeB, simtest.PIN)
		tc.oo.Prompter = p
		r, err := simtest.Open(t, simtest.Sim(t, img), tc.oo).Read(context.Background(), tc.ro)
		if err != nil || r.Verdict != trust.NotGenuine || p.Count() != 0 {
			t.Fatalf("%s: %v, %d prompts", tc.name, err, p.Count())
		}
	}
}

// What both applets' signed data hold is compared, and a difference fails
// the read even when each applet's own signatures and proof pass (data
// re-signed with the applet's key, as the simulator's public test keys
// allow).
func TestSignedCopiesMustAgree(t *testing.T) {
	for _, tc := range []struct {
		name        string
		birth, sex  string
		check, same trust.CheckName
	}{
		{"birth date", "19800218", "", trust.CheckBirthDate, trust.CheckSex},
		{"sex", "", "2", trust.CheckSex, trust.CheckBirthDate},
	} {
		img := simtest.Image(t)
		simtest.SetTextAttributes(t, img, "", "", tc.birth, tc.sex)
		r := read(t, img, mynakit.ReadOptions{})
		if r.Verdict != trust.NotGenuine {
			t.Fatalf("%s differs: verdict %s", tc.name, r.Verdict)
		}
		mustCheck(t, r, tc.check, trust.Fail)
		mustCheck(t, r, tc.same, trust.Pass)
		mustCheck(t, r, trust.CheckTextIntegrity, trust.Pass)
		mustCheck(t, r, trust.CheckPresenceText, trust.Pass)
	}
}
