package cardap_test

import (
	"context"
	"testing"

	. "github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
)

// countingSession stands in for *pin.Session: it passes every call on and
// counts the file reads, as a transport other than pin's would see them.
type countingSession struct {
	Session
	reads int
}

func (c *countingSession) ReadObject(ctx context.Context, a myna.Applet, fid uint16) ([]byte, error) {
	c.reads++
	return c.Session.ReadObject(ctx, a, fid)
}

func (c *countingSession) ReadRecord(ctx context.Context, a myna.Applet, fid uint16, rec int) ([]byte, error) {
	c.reads++
	return c.Session.ReadRecord(ctx, a, fid, rec)
}

func (c *countingSession) ReadPhysical(ctx context.Context, a myna.Applet, fid uint16, limit int) ([]byte, error) {
	c.reads++
	return c.Session.ReadPhysical(ctx, a, fid, limit)
}

func (c *countingSession) ReadBinary(ctx context.Context, a myna.Applet, fid uint16, offset, n int) ([]byte, error) {
	c.reads++
	return c.Session.ReadBinary(ctx, a, fid, offset, n)
}

// TestReadThroughSession: the readers need only the Session interface, so
// a wrapper of *pin.Session reads the card as well as the session itself,
// and sees every read go through it.
func TestReadThroughSession(t *testing.T) {
	s := &countingSession{Session: simSession(t, simtest.Image(t))}
	rec, fault, err := ReadCommon(context.Background(), s)
	if err != nil || fault != nil || len(rec) == 0 {
		t.Fatalf("common: %d bytes, fault %v, %v", len(rec), fault, err)
	}
	raw, err := ReadText(context.Background(), s, TextOptions{Attributes: true})
	if err != nil || len(raw.Faults) != 0 {
		t.Fatalf("text: %v, faults %v", err, raw.Faults)
	}
	if s.reads < 2 {
		t.Errorf("%d reads went through the wrapper", s.reads)
	}
	if _, checks := VerifyText(*raw, simtest.Store(t)); len(checks) == 0 {
		t.Error("no checks on a text read through the wrapper")
	}
}
