package pin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
)

// The birth key is the first six digits of 照合番号B, or learned from a
// verified birth date; either opens the age record without a prompt.
func TestBirthKey(t *testing.T) {
	ctx := context.Background()
	for _, learn := range []struct {
		kind  myna.Secret
		value string
	}{{myna.CodeB, "55021720352285"}, {myna.BirthKey, "550217"}} {
		sim := newSim(t, nil)
		s := pin.NewSession(apdu.NewCard(sim), nil)
		s.Learn(learn.kind, []byte(learn.value))
		if _, err := s.ReadObject(ctx, myna.Surface, myna.SurfaceAgeRecord); err != nil {
			t.Fatalf("with %s: %v", learn.kind, err)
		}
		if left, _, _ := sim.KeyState(myna.Surface, myna.SurfaceBirthKey); left != 10 {
			t.Fatalf("birth key has %d tries", left)
		}
	}
}

// With WithCodeBFirst the card face and the age record open with one
// 照合番号B prompt, and the text applet's PIN is never tried.
func TestCodeBFirst(t *testing.T) {
	ctx := context.Background()
	sim := newSim(t, nil)
	p := &countingPrompter{answers: []string{"55021720352285"}}
	s := pin.NewSession(apdu.NewCard(sim), p, pin.WithCodeBFirst())
	defer s.Close()
	for _, fid := range []uint16{myna.SurfaceFace, myna.SurfaceAgeRecord} {
		if _, err := s.ReadObject(ctx, myna.Surface, fid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ReadObject(ctx, myna.Text, myna.TextAttributes); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 1 || p.asked[0].Kind != myna.CodeB {
		t.Fatalf("prompts %+v, want one 照合番号B prompt", p.asked)
	}
	if left, _, _ := sim.KeyState(myna.Text, myna.TextPIN); left != 3 {
		t.Fatalf("text PIN has %d tries", left)
	}
	if s.Holds(myna.ShortPIN) || s.Holds(myna.CodeA) || !s.Holds(myna.BirthKey) {
		t.Fatal("the session went through the text applet")
	}
}

// A wrong secret ends the attempt: no second prompt for another kind of
// secret follows at once.
func TestWrongSecretAsksNothingElse(t *testing.T) {
	sim := newSim(t, nil)
	p := &countingPrompter{answers: []string{"55021720350000", "1234"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	defer s.Close()
	err := s.Open(context.Background(), myna.Surface, myna.SurfaceFace)
	var ws *pin.WrongSecretError
	if !errors.As(err, &ws) || ws.Key.Name != myna.KeySurfaceCodeB || ws.Remaining != 9 {
		t.Fatalf("got %v, want the card face's wrong-secret error", err)
	}
	if len(p.asked) != 1 {
		t.Fatalf("%d prompts after a wrong secret, want 1", len(p.asked))
	}
	if pin.Unavailable(err) {
		t.Fatal("a wrong secret reported as unavailable")
	}
}

// The retry guard on any key of a grouped change refuses the whole change
// before a single VERIFY or CHANGE is sent.
func TestChangeGuardRefusesBeforeAnything(t *testing.T) {
	var sent int
	count := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if (c.INS == 0x20 && len(c.Data) > 0) || c.INS == 0x24 || c.INS == 0x32 {
			sent++
		}
		return 0, false
	})
	sim := newSim(t, map[myna.KeyName]int{"juki-pin": 1}, count)
	s := pin.NewSession(apdu.NewCard(sim), &countingPrompter{answers: []string{"1234"}})
	defer s.Close()
	if err := s.Ask(context.Background(), myna.AllKeys()[0]); err != nil {
		t.Fatal(err)
	}
	res, err := s.Change(context.Background(), myna.ShortPINKeys(), []byte("5678"))
	if !errors.Is(err, pin.ErrWouldBlock) || !strings.Contains(err.Error(), "juki-pin") {
		t.Fatalf("got %v, want a would-block refusal naming juki-pin", err)
	}
	if sent != 0 {
		t.Fatalf("%d VERIFY/CHANGE commands sent despite the guard", sent)
	}
	if len(res) != 4 {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		if r.Holds != pin.HoldsOld || r.Attempted {
			t.Errorf("%s: %+v", r.Key.Name, r)
		}
		if v := snapshotKey(t, sim, shortKeys[i].a, shortKeys[i].fid); v != "1234" {
			t.Errorf("%s holds %q", r.Key.Name, v)
		}
		if (r.Err != nil) != (r.Key.Name == "juki-pin") {
			t.Errorf("%s: error %v", r.Key.Name, r.Err)
		}
	}
}

// After a change refused part-way the session no longer presents the old
// PIN, which the changed key would reject at the cost of a try.
func TestPartialChangeForgetsTheOldPIN(t *testing.T) {
	changes := 0
	refuse := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if c.INS == 0x24 || c.INS == 0x32 {
			if changes++; changes == 2 {
				return 0x6A80, true
			}
		}
		return 0, false
	})
	sim := newSim(t, nil, refuse)
	p := &countingPrompter{answers: []string{"1234", "5678"}}
	s := pin.NewSession(apdu.NewCard(sim), p)
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Change(ctx, myna.ShortPINKeys(), []byte("5678")); err == nil {
		t.Fatal("refusal not reported")
	}
	if s.Holds(myna.ShortPIN) {
		t.Fatal("the session kept a PIN that no longer fits every key")
	}
	// JPKI now holds 5678: the session asks instead of presenting 1234.
	if err := sim.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	s.Invalidate()
	if err := s.Open(ctx, myna.JPKI, myna.JPKIAuthKey); err != nil {
		t.Fatal(err)
	}
	if left, _, _ := sim.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 3 || len(p.asked) != 2 {
		t.Fatalf("%d tries left after %d prompts", left, len(p.asked))
	}
}

// removingTransport pulls the card when a chosen command is sent: the
// command is lost on the way.
type removingTransport struct {
	*simulator.Card
	ins byte
}

func (r removingTransport) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) > 1 && cmd[1] == r.ins {
		r.Remove()
	}
	return r.Card.Transmit(ctx, cmd)
}

func TestChangeLostOnTheWayIsUnknown(t *testing.T) {
	sim := newSim(t, nil)
	s := pin.NewSession(apdu.NewCard(removingTransport{sim, 0x24}), &countingPrompter{answers: []string{"1234"}})
	res, err := s.Change(context.Background(), myna.ShortPINKeys(), []byte("5678"))
	if !errors.Is(err, apdu.ErrCardRemoved) || len(res) != 4 {
		t.Fatalf("err %v, %d results", err, len(res))
	}
	if res[0].Holds != pin.HoldsUnknown || res[1].Holds != pin.HoldsOld || res[1].Attempted {
		t.Fatalf("report %+v", res)
	}
	if s.Holds(myna.ShortPIN) {
		t.Fatal("secret kept after the card was pulled")
	}
}

func TestLinePrompter(t *testing.T) {
	r := strings.NewReader("1234\r\nabc123\nrest-of-input")
	p := pin.NewLinePrompter(r)
	ctx := context.Background()
	for _, want := range []string{"1234", "abc123", "rest-of-input"} {
		got, err := p.Prompt(ctx, pin.Request{Kind: myna.ShortPIN})
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := p.Prompt(ctx, pin.Request{Kind: myna.ShortPIN}); !errors.Is(err, pin.ErrNoSecret) {
		t.Fatalf("after the end: %v", err)
	}
	if out := fmt.Sprintf("%v %+v %#v", p, p, p); strings.Contains(out, "1234") || strings.Contains(out, "abc123") {
		t.Fatalf("prompter shows what it read: %s", out)
	}
	// Only the line asked for is taken from the input.
	r2 := strings.NewReader("1234\nnext\n")
	if _, err := pin.NewLinePrompter(r2).Prompt(ctx, pin.Request{Kind: myna.ShortPIN}); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r2); string(rest) != "next\n" {
		t.Fatalf("left %q in the input", rest)
	}
}

// Status reads every key's tries without using one, and marks blocked
// keys and limits no source establishes.
func TestStatusUsesNoTry(t *testing.T) {
	var sent int
	count := simulator.WithFault(func(c apdu.Command) (uint16, bool) {
		if c.INS == 0x20 && len(c.Data) > 0 {
			sent++
		}
		return 0, false
	})
	sim := newSim(t, map[myna.KeyName]int{"text-pin": 0, "jpki-sign-password": 2}, count)
	s := pin.NewSession(apdu.NewCard(sim), nil)
	st, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 9 || sent != 0 {
		t.Fatalf("%d keys, %d VERIFY with data", len(st), sent)
	}
	byName := map[myna.KeyName]pin.KeyStatus{}
	for _, k := range st {
		byName[k.Name] = k
	}
	if k := byName["text-pin"]; !k.Blocked || k.Remaining != 0 || k.Max != 3 {
		t.Errorf("text-pin %+v", k)
	}
	if k := byName["jpki-sign-password"]; k.Blocked || k.Remaining != 2 || k.Max != 5 || k.MaxAssumed {
		t.Errorf("jpki-sign-password %+v", k)
	}
	if k := byName["surface-code-a"]; !k.MaxAssumed {
		t.Errorf("surface-code-a %+v: its limit is not established", k)
	}
	for _, k := range []struct {
		a    myna.Applet
		fid  uint16
		want int
	}{{myna.Text, myna.TextPIN, 0}, {myna.JPKI, myna.JPKISignPIN, 2}, {myna.JPKI, myna.JPKIAuthPIN, 3}} {
		if left, _, _ := sim.KeyState(k.a, k.fid); left != k.want {
			t.Errorf("%04X: %d tries after status, want %d", k.fid, left, k.want)
		}
	}
}

// verifiedAnswer answers 9000 to a tries query on one key, as some cards
// do once the key is verified in the card session (docs/card.md §3.2).
type verifiedAnswer struct {
	*simulator.Card
	p2 byte
}

func (v verifiedAnswer) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) == 4 && cmd[1] == 0x20 && cmd[3] == v.p2 {
		return []byte{0x90, 0x00}, nil
	}
	return v.Card.Transmit(ctx, cmd)
}

func TestQueryAnswered9000AsksNothing(t *testing.T) {
	sim := newSim(t, nil)
	p := &countingPrompter{}
	s := pin.NewSession(apdu.NewCard(verifiedAnswer{sim, apdu.KeySFI(myna.JPKIAuthPIN)}), p)
	if err := s.Open(context.Background(), myna.JPKI, myna.JPKIAuthKey); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 0 {
		t.Fatalf("asked %+v for a key the card says is verified", p.asked)
	}
	st, err := s.Status(context.Background())
	if err != nil || st[0].Name != "jpki-auth-pin" || !st[0].Verified || st[0].Blocked || st[0].Remaining != 3 {
		t.Fatalf("status %+v, %v", st, err)
	}
}

// Verify (pin verify, and a change's first step) checks a value: a card
// that answers the tries query 9000 is still asked for and sent the
// secret, since that status word checks nothing.
func TestVerifyOfA9000KeyStillSendsTheSecret(t *testing.T) {
	sim := newSim(t, nil)
	p := &countingPrompter{answers: []string{"1234"}}
	var sent int
	tr := countVerify{verifiedAnswer{sim, apdu.KeySFI(myna.JPKIAuthPIN)}, &sent}
	s := pin.NewSession(apdu.NewCard(tr), p)
	key, _ := myna.KeyAt(myna.JPKI, myna.JPKIAuthPIN)
	if err := s.Verify(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 1 || sent != 1 {
		t.Fatalf("asked %d times, %d VERIFY with a value sent; want 1 and 1", len(p.asked), sent)
	}
	if p.asked[0].Remaining != -1 {
		t.Errorf("prompt shows %d tries; the card did not say", p.asked[0].Remaining)
	}
}

// countVerify counts VERIFY commands that carry a value.
type countVerify struct {
	apdu.Transport
	n *int
}

func (c countVerify) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) > 5 && cmd[1] == 0x20 {
		*c.n++
	}
	return c.Transport.Transmit(ctx, cmd)
}

// shim9000 answers 9000 to every VERIFY on one key, with or without a
// value, as an APDU shim in front of a card can.
type shim9000 struct {
	*simulator.Card
	p2 byte
	n  *int // VERIFY commands with a value it answered
}

func (v shim9000) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) >= 4 && cmd[1] == 0x20 && cmd[3] == v.p2 {
		if len(cmd) > 5 {
			*v.n++
		}
		return []byte{0x90, 0x00}, nil
	}
	return v.Card.Transmit(ctx, cmd)
}

// Issue 14, finding 1: a card answering 9000 to the tries query of the card
// face's 照合番号A key was taken as "verified": the My Number was never sent,
// yet the session listed the key as accepted. Now the held code is sent,
// and only a VERIFY this session sent makes a key verified.
func TestQuery9000IsNotAVerification(t *testing.T) {
	ctx := context.Background()
	sim := newSim(t, nil)
	var sent int
	s := pin.NewSession(apdu.NewCard(shim9000{sim, apdu.KeySFI(myna.SurfaceCodeA), &sent}), nil)
	s.Learn(myna.CodeA, []byte("537686677188"))
	if err := s.Open(ctx, myna.Surface, myna.SurfaceFace); err != nil {
		t.Fatal(err)
	}
	if sent != 1 {
		t.Fatalf("%d VERIFY of 照合番号A sent with a value, want 1", sent)
	}
	// The card behind a shim that answers only the query still judges the
	// code: a wrong one is refused and never listed as verified.
	sim = newSim(t, nil)
	s = pin.NewSession(apdu.NewCard(verifiedAnswer{sim, apdu.KeySFI(myna.SurfaceCodeA)}), nil)
	s.Learn(myna.CodeA, []byte("123456789018"))
	err := s.Open(ctx, myna.Surface, myna.SurfaceFace)
	var wrong *pin.WrongSecretError
	if !errors.As(err, &wrong) {
		t.Fatalf("a wrong 照合番号A behind a 9000 query: %v", err)
	}
	for _, k := range s.Verified(myna.Surface) {
		if k == myna.KeySurfaceCodeA {
			t.Fatal("照合番号A listed as verified after the card refused it")
		}
	}
}
