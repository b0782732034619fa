package pin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

func newSim(t *testing.T, remaining map[myna.KeyName]int, opts ...simulator.Option) *simulator.Card {
	t.Helper()
	p := persona.Default()
	p.Remaining = remaining
	img, err := persona.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(img, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// countingPrompter answers from a list and records what it was asked.
type countingPrompter struct {
	answers []string
	asked   []pin.Request
}

func (p *countingPrompter) Prompt(_ context.Context, r pin.Request) ([]byte, error) {
	p.asked = append(p.asked, r)
	if len(p.asked) > len(p.answers) {
		return nil, fmt.Errorf("%w: test prompter has no more answers", pin.ErrNoSecret)
	}
	return []byte(p.answers[len(p.asked)-1]), nil
}

// One prompt covers every key of the kind, across applet switches: the
// card forgets a verification when another applet is selected, the
// session does not.
func TestOnePromptAcrossApplets(t *testing.T) {
	ctx := context.Background()
	sim := newSim(t, nil)
	p := &countingPrompter{answers: []string{"1234"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	defer s.Close()
	for _, step := range []struct {
		a   myna.Applet
		fid uint16
	}{{myna.Text, myna.TextMyNumber}, {myna.JPKI, myna.JPKIAuthKey}, {myna.Text, myna.TextAttributes}, {myna.Common, myna.CommonPIN}} {
		if err := s.Open(ctx, step.a, step.fid); err != nil && step.fid != myna.CommonPIN {
			t.Fatal(err)
		}
	}
	if _, err := s.ReadObject(ctx, myna.Text, myna.TextAttributes); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 1 || p.asked[0].Kind != myna.ShortPIN || p.asked[0].Remaining != 3 {
		t.Fatalf("prompts: %+v, want one short-PIN prompt showing 3 tries", p.asked)
	}
}

// The session never reads the card to derive a secret: the card face with
// only the PIN held asks for 照合番号B (what the holder can read off the
// card), and 照合番号A only as the last resort. A caller that has read and
// verified the My Number hands it over with Learn.
func TestNoSecretDerivedFromCardData(t *testing.T) {
	ctx := context.Background()
	var verifies []byte
	sim := newSim(t, nil, simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if c.INS == 0x20 && len(c.Data) > 0 {
			verifies = append(verifies, c.P2)
		}
		return 0, false
	}))
	p := &countingPrompter{answers: []string{"55021720352285"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	s.Learn(myna.ShortPIN, []byte("1234"))
	if err := s.Open(ctx, myna.Surface, myna.SurfaceFace); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 1 || p.asked[0].Kind != myna.CodeB || s.Holds(myna.CodeA) {
		t.Fatalf("prompts %+v, want one 照合番号B prompt and no 照合番号A derived", p.asked)
	}
	if len(verifies) != 1 || verifies[0] != apdu.KeySFI(myna.SurfaceCodeB) {
		t.Fatalf("VERIFY P2s %X, want only the card face's 照合番号B key", verifies)
	}
	// Learned, 照合番号A opens the card face without a prompt.
	s2 := pin.NewSession(apdu.NewCard(newSim(t, nil)), nil)
	if s2.Learn(myna.CodeA, []byte("537686677189")) {
		t.Fatal("a My Number with a wrong check digit was learned")
	}
	if !s2.Learn(myna.CodeA, []byte("537686677188")) {
		t.Fatal("a valid My Number was not learned")
	}
	if err := s2.Open(ctx, myna.Surface, myna.SurfaceFace); err != nil {
		t.Fatal(err)
	}
	if got := s2.Verified(myna.Surface); len(got) != 1 || got[0] != myna.KeySurfaceCodeA {
		t.Fatalf("card face opened with %v, want surface-code-a", got)
	}
}

func TestSurfaceWithCodeBWhenTextPINGuarded(t *testing.T) {
	sim := newSim(t, map[myna.KeyName]int{myna.KeyTextPIN: 1})
	p := &countingPrompter{answers: []string{"1980-02-17 2035 2285"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	if err := s.Open(context.Background(), myna.Text, myna.TextAttributes); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 1 || p.asked[0].Kind != myna.CodeB {
		t.Fatalf("prompts %+v, want one 照合番号B prompt", p.asked)
	}
	if left, _, _ := sim.KeyState(myna.Text, myna.TextPIN); left != 1 {
		t.Fatalf("text PIN has %d tries, want 1 untouched", left)
	}
}

// gateRecorder is a PromptGate that records whether a prompt ran while the
// caller's transaction was held.
type gateRecorder struct {
	held    bool
	prompts int
	during  []bool
}

func (g *gateRecorder) Around(ctx context.Context, prompt func() error) (bool, error) {
	g.prompts++
	g.during = append(g.during, g.held)
	released := g.held
	g.held = false
	err := prompt()
	if released {
		g.held = true
	}
	return released, err
}

// Every prompt runs through the gate, and after a released transaction
// the session forgets the card's state: it reselects and rereads the tries
// before its VERIFY, because another application may have used the card.
func TestPromptGateAndStaleState(t *testing.T) {
	var log []string
	sim := newSim(t, nil, simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		switch {
		case c.INS == 0xA4 && c.P1 == 0x04:
			log = append(log, "select")
		case c.INS == 0x20 && len(c.Data) == 0:
			log = append(log, "tries")
		case c.INS == 0x20:
			log = append(log, "verify")
		}
		return 0, false
	}))
	g := &gateRecorder{held: true}
	s := pin.NewSession(apdu.NewCard(sim), &countingPrompter{answers: []string{"1234"}}, pin.WithPromptGate(g))
	if err := s.Open(context.Background(), myna.Text, myna.TextMyNumber); err != nil {
		t.Fatal(err)
	}
	if g.prompts != 1 || !g.during[0] {
		t.Fatalf("gate saw %d prompts", g.prompts)
	}
	want := "select tries select tries verify"
	if got := strings.Join(log, " "); got != want {
		t.Fatalf("commands %q, want %q", got, want)
	}
	// Without a gap the tries are read once per key.
	log = nil
	if err := s.Open(context.Background(), myna.Text, myna.TextIntegrity); err != nil {
		t.Fatal(err)
	}
	if len(log) != 0 {
		t.Fatalf("commands %q for a file the verified PIN already opens", log)
	}
}

// verifyCounter counts VERIFY commands that carry a secret.
func verifyCounter(n *int) simulator.Option {
	return simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if c.INS == 0x20 && len(c.Data) > 0 {
			*n++
		}
		return 0, false
	})
}

func TestGuardRefusesLastTry(t *testing.T) {
	ctx := context.Background()
	var verifies int
	sim := newSim(t, map[myna.KeyName]int{"jpki-auth-pin": 1}, verifyCounter(&verifies))
	p := &countingPrompter{answers: []string{"9999"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	err := s.Open(ctx, myna.JPKI, myna.JPKIAuthKey)
	var wb *pin.WouldBlockError
	if !errors.As(err, &wb) || !errors.Is(err, pin.ErrWouldBlock) || wb.Remaining != 1 || wb.Key.Name != "jpki-auth-pin" {
		t.Fatalf("got %v, want a would-block refusal", err)
	}
	if verifies != 0 {
		t.Fatalf("%d VERIFY sent despite the guard", verifies)
	}
	if left, _, _ := sim.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 1 {
		t.Fatalf("%d tries left, want 1", left)
	}

	// With the last try allowed, the wrong PIN is sent and blocks the key.
	s2 := pin.NewSession(apdu.NewCard(sim), &countingPrompter{answers: []string{"9999"}}, pin.WithAllowLastTry(true))
	err = s2.Open(ctx, myna.JPKI, myna.JPKIAuthKey)
	if !errors.Is(err, pin.ErrWrongSecret) || !errors.Is(err, pin.ErrKeyBlocked) {
		t.Fatalf("allowed last try: %v", err)
	}
	if left, _, _ := sim.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 0 || verifies != 1 {
		t.Fatalf("%d tries left after %d VERIFY, want 0 after 1", left, verifies)
	}
}

func TestWrongSecretDroppedAndRetriesShown(t *testing.T) {
	ctx := context.Background()
	sim := newSim(t, nil)
	p := &countingPrompter{answers: []string{"9999", "1234"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	err := s.Open(ctx, myna.JPKI, myna.JPKIAuthKey)
	var ws *pin.WrongSecretError
	if !errors.As(err, &ws) || ws.Remaining != 2 {
		t.Fatalf("wrong PIN: %v", err)
	}
	if s.Holds(myna.ShortPIN) {
		t.Fatal("a rejected PIN was kept")
	}
	if err := s.Open(ctx, myna.JPKI, myna.JPKIAuthKey); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 2 || p.asked[1].Remaining != 2 || !p.asked[1].Retry {
		t.Fatalf("second prompt %+v, want 2 tries shown", p.asked)
	}
}

func TestInvalidSecretUsesNoTry(t *testing.T) {
	var verifies int
	sim := newSim(t, nil, verifyCounter(&verifies))
	s := pin.NewSession(apdu.NewCard(sim), &countingPrompter{answers: []string{"12a4"}})
	err := s.Open(context.Background(), myna.JPKI, myna.JPKIAuthKey)
	if !errors.Is(err, pin.ErrInvalidSecret) || verifies != 0 {
		t.Fatalf("%v after %d VERIFY", err, verifies)
	}
}

func snapshotKey(t *testing.T, sim *simulator.Card, a myna.Applet, fid uint16) string {
	t.Helper()
	img := sim.Snapshot()
	for aid, ap := range img.Applets {
		if strings.EqualFold(aid, fmt.Sprintf("%X", a.AID())) {
			k := ap.Keys[simulator.FIDString(fid)]
			if k == nil || k.Value == nil {
				t.Fatalf("no key %04X", fid)
			}
			return string(*k.Value)
		}
	}
	t.Fatalf("no applet %s", a)
	return ""
}

var shortKeys = []struct {
	a   myna.Applet
	fid uint16
}{{myna.JPKI, myna.JPKIAuthPIN}, {myna.Text, myna.TextPIN}, {myna.Common, myna.CommonPIN}, {myna.Juki, myna.JukiPIN}}

func TestChangeShortPINEverywhere(t *testing.T) {
	sim := newSim(t, nil)
	p := &countingPrompter{answers: []string{"1234"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	res, err := s.Change(context.Background(), myna.ShortPINKeys(), []byte("5678"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || len(p.asked) != 1 {
		t.Fatalf("%d results, %d prompts", len(res), len(p.asked))
	}
	for i, k := range shortKeys {
		if res[i].Holds != pin.HoldsNew {
			t.Errorf("%s holds %s", res[i].Key.Name, res[i].Holds)
		}
		if v := snapshotKey(t, sim, k.a, k.fid); v != "5678" {
			t.Errorf("%s on the card: %q", res[i].Key.Name, v)
		}
	}
}

func TestChangeRefusedPartWayReportsEachKey(t *testing.T) {
	changes := 0
	refuse := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if c.INS == 0x24 || c.INS == 0x32 {
			changes++
			if changes == 2 {
				return 0x6A80, true // the card refuses the second change
			}
		}
		return 0, false
	})
	sim := newSim(t, nil, refuse)
	s := pin.NewSession(apdu.NewCard(sim), &countingPrompter{answers: []string{"1234"}})
	res, err := s.Change(context.Background(), myna.ShortPINKeys(), []byte("5678"))
	if err == nil || len(res) != 4 {
		t.Fatalf("err %v, %d results", err, len(res))
	}
	want := []struct {
		holds     pin.Holding
		attempted bool
		value     string
	}{{pin.HoldsNew, true, "5678"}, {pin.HoldsOld, true, "1234"}, {pin.HoldsOld, false, "1234"}, {pin.HoldsOld, false, "1234"}}
	for i, w := range want {
		if res[i].Holds != w.holds || res[i].Attempted != w.attempted {
			t.Errorf("%s: holds %s attempted %v", res[i].Key.Name, res[i].Holds, res[i].Attempted)
		}
		if v := snapshotKey(t, sim, shortKeys[i].a, shortKeys[i].fid); v != w.value {
			t.Errorf("%s really holds %q, report says %s", res[i].Key.Name, v, res[i].Holds)
		}
	}
	if res[1].Err == nil {
		t.Error("the refusal is not reported on the refused key")
	}
}

func TestRemovalWipesSecrets(t *testing.T) {
	ctx := context.Background()
	sim := newSim(t, nil)
	s := pin.NewSession(apdu.NewCard(sim), &countingPrompter{answers: []string{"1234"}})
	if err := s.Open(ctx, myna.Text, myna.TextMyNumber); err != nil {
		t.Fatal(err)
	}
	sim.Remove()
	if err := s.Open(ctx, myna.JPKI, myna.JPKIAuthKey); !errors.Is(err, apdu.ErrCardRemoved) {
		t.Fatalf("after removal: %v", err)
	}
	if s.Holds(myna.ShortPIN) {
		t.Fatal("secret kept after card removal")
	}
	// The dead session keeps saying why: the card was removed.
	if err := s.Open(ctx, myna.JPKI, myna.JPKIAuthCert); !errors.Is(err, pin.ErrSessionClosed) || !errors.Is(err, apdu.ErrCardRemoved) {
		t.Fatalf("dead session: %v", err)
	}
}

func TestIdleWipe(t *testing.T) {
	s := pin.NewSession(apdu.NewCard(newSim(t, nil)), nil, pin.WithIdleWipe(time.Millisecond))
	s.Learn(myna.ShortPIN, []byte("1234"))
	deadline := time.Now().Add(5 * time.Second)
	for s.Holds(myna.ShortPIN) {
		if time.Now().After(deadline) {
			t.Fatal("secret not wiped after the idle time")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNoSecretInErrors runs failing operations and checks that no secret
// reaches an error string or a formatted value.
func TestNoSecretInErrors(t *testing.T) {
	ctx := context.Background()
	secrets := []string{"9876", "1234", "ZYX987", "537686677188", "55021720352285"}
	var msgs []string
	collect := func(err error) {
		if err != nil {
			msgs = append(msgs, err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err))
		}
	}
	sim := newSim(t, map[myna.KeyName]int{"jpki-sign-password": 1})
	s := pin.NewSession(apdu.NewCard(sim), &countingPrompter{answers: []string{"9876", "ZYX987"}})
	collect(s.Open(ctx, myna.JPKI, myna.JPKIAuthKey)) // wrong PIN
	collect(s.Open(ctx, myna.JPKI, myna.JPKISignKey)) // guard
	for _, bad := range []string{"12345", "abc", "537686677189", "5502172035228x", "55021720352285x"} {
		for _, k := range []myna.Secret{myna.ShortPIN, myna.SignPassword, myna.CodeA, myna.CodeB} {
			_, err := pin.Normalize(k, []byte(bad))
			collect(err)
		}
	}
	sec := pin.NewSecret([]byte("1234"))
	msgs = append(msgs, fmt.Sprintf("%v %s %q %#v %x %+v", sec, sec, sec, sec, sec, struct{ S *pin.Secret }{sec}))
	s.Learn(myna.CodeA, []byte("537686677188"))
	msgs = append(msgs, fmt.Sprintf("%+v", s))
	for _, m := range msgs {
		for _, secret := range secrets {
			if strings.Contains(m, secret) {
				t.Errorf("secret %q in %q", secret, m)
			}
		}
	}
	if len(msgs) < 10 {
		t.Fatalf("only %d messages collected", len(msgs))
	}
}

func TestSecretWipe(t *testing.T) {
	b := []byte("1234")
	s := pin.NewSecret(b)
	s.Wipe()
	if s.Bytes() != nil || !bytes.Equal(b, []byte("1234")) {
		t.Fatal("Wipe must clear the session's copy only")
	}
	pin.Wipe(b)
	if !bytes.Equal(b, make([]byte, 4)) {
		t.Fatal("Wipe left bytes")
	}
}
