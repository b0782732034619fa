package mynakit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/qr"
	"github.com/mynakit/mynakit/trust"
)

// The rule "no QR code from a card that is not genuine" is the library's:
// the CLI and the bridge only report it.
func TestQRCodeOnlyFromAGenuineRead(t *testing.T) {
	for _, v := range []trust.Verdict{trust.NotGenuine, trust.Undecided} {
		_, err := (&mynakit.Report{Verdict: v}).QRCode(qr.KindAge)
		var ng *mynakit.NotGenuineError
		if !errors.As(err, &ng) || ng.Verdict != v {
			t.Errorf("verdict %s: err = %v, want *NotGenuineError", v, err)
		}
	}
	card := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN)})
	rep, err := card.Read(context.Background(), mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartSurface}, AgeRecord: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != trust.Genuine {
		t.Fatalf("verdict %s", rep.Verdict)
	}
	if _, err := rep.QRCode(qr.KindAge); err != nil {
		t.Fatalf("a genuine read makes no code: %v", err)
	}
}
