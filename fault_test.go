package mynakit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/trust"
)

// The fault matrix: a full read with the card pulled after APDU k, and
// with one bit flipped in response k, for every k. Every run must end in a
// typed error or a verdict other than genuine — except where the flipped
// bit is in data no verdict rests on, which the test names — never panic
// or hang, and never use a try beyond the VERIFY in flight.
func TestFaultMatrix(t *testing.T) {
	img := simtest.Image(t)
	// What a clean read sends, to know n and which response is which.
	var sent []apdu.Command
	logAll := simulator.WithFault(func(c apdu.Command) (uint16, bool) { sent = append(sent, c); return 0, false })
	if r := read(t, img, mynakit.ReadOptions{}, logAll); r.Verdict != trust.Genuine {
		t.Fatal("the clean read is not genuine")
	}
	n := len(sent)
	tries := func(t *testing.T, sc *simulator.Card) {
		t.Helper()
		spent := 0
		for _, k := range myna.AllKeys() {
			left, max, ok := sc.KeyState(k.Applet, k.FID)
			if ok && left < max {
				spent += max - left
			}
		}
		if spent > 1 {
			t.Errorf("%d tries spent", spent)
		}
	}
	run := func(t *testing.T, opt simulator.Option) (*mynakit.Report, *simulator.Card, error) {
		t.Helper()
		sc := simtest.Sim(t, img, opt)
		c, err := mynakit.OpenTransport(sc, "fault", mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN, simtest.PIN, simtest.CodeB)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := c.Read(ctx, mynakit.ReadOptions{})
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatal("the read hung")
		}
		return r, sc, err
	}
	for k := 1; k < n; k++ {
		r, sc, err := run(t, simulator.WithRemovalAfter(k))
		if err == nil {
			t.Errorf("pulled after %d APDUs: no error, verdict %s", k, r.Verdict)
		} else if !errors.Is(err, apdu.ErrCardRemoved) {
			t.Errorf("pulled after %d APDUs: %v, want card removed", k, err)
		}
		tries(t, sc)
	}
	harmless := 0
	for k := 1; k <= n; k++ {
		r, sc, err := run(t, simulator.WithBitFlip(k))
		tries(t, sc)
		if err != nil {
			continue // a typed error: the card answered what no card answers
		}
		if r.Verdict != trust.Genuine {
			continue
		}
		// The responses whose every byte may change without changing
		// what the verdict rests on: the card's challenges R, one per
		// presence proof (the text applet's and the card face's). The
		// host's own nonce under each signature is what makes a proof
		// fresh, and the card signs what the host sends.
		if c := sent[k-1]; c.INS == 0x84 {
			harmless++
			continue
		}
		t.Errorf("bit flipped in response %d (to % X): still genuine", k, sent[k-1].INS)
	}
	if harmless != 2 {
		t.Errorf("%d flipped challenges went unnoticed, want exactly the two GET CHALLENGEs", harmless)
	}
	t.Logf("%d APDUs in a full read; every fault ended in an error or a verdict other than genuine", n)
}
