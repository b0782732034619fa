package mynakit

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/apdu/pcsc"
)

// fakeService plays a PC/SC service: each connection answers a script of
// snapshots, then fails as a stopped pcscd does.
type fakeService struct {
	mu       sync.Mutex
	sessions [][]snapshotOrErr
	connects int
}

type snapshotOrErr struct {
	readers []pcsc.ReaderState
	err     error
}

type fakeSource struct{ script []snapshotOrErr }

func (s *fakeSource) Next(ctx context.Context) ([]pcsc.ReaderState, error) {
	if len(s.script) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	n := s.script[0]
	s.script = s.script[1:]
	return n.readers, n.err
}
func (s *fakeSource) Close() error { return nil }

func (f *fakeService) connect() (readerSource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connects++
	if len(f.sessions) == 0 {
		return nil, errors.New("no service")
	}
	s := f.sessions[0]
	f.sessions = f.sessions[1:]
	if s == nil {
		return nil, errors.New("no service yet")
	}
	return &fakeSource{script: s}, nil
}

func rs(name string, present bool, events int) pcsc.ReaderState {
	r := pcsc.ReaderState{ReaderInfo: pcsc.ReaderInfo{Name: name, CardPresent: present}, Events: events}
	if present {
		r.ATR = []byte{0x3B, 0x8C}
	}
	return r
}

func TestWatchReportsChangesAndSurvivesAServiceRestart(t *testing.T) {
	lost := errors.New("service stopped")
	svc := &fakeService{sessions: [][]snapshotOrErr{
		{
			{readers: []pcsc.ReaderState{rs("A", false, 0)}},
			{readers: []pcsc.ReaderState{rs("A", true, 1)}},
			// Pulled and another card put in between two looks.
			{readers: []pcsc.ReaderState{rs("A", true, 3)}},
			{readers: []pcsc.ReaderState{rs("A", true, 3), rs("B", false, 0)}},
			{err: lost},
		},
		nil, // the service is not back at the first retry
		{
			{readers: []pcsc.ReaderState{rs("A", true, 0)}},
		},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error
	var mu sync.Mutex
	events := watchWith(ctx, WatchOptions{Retry: time.Millisecond, OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}, svc.connect)
	want := []ReaderEvent{
		{Kind: ReaderAdded, Reader: "A"},
		{Kind: CardInserted, Reader: "A", ATR: []byte{0x3B, 0x8C}},
		{Kind: CardRemoved, Reader: "A"},
		{Kind: CardInserted, Reader: "A", ATR: []byte{0x3B, 0x8C}},
		{Kind: ReaderAdded, Reader: "B"},
		// pcscd went away: every reader with it.
		{Kind: CardRemoved, Reader: "A"},
		{Kind: ReaderRemoved, Reader: "A"},
		{Kind: ReaderRemoved, Reader: "B"},
		// And it came back on its own.
		{Kind: ReaderAdded, Reader: "A"},
		{Kind: CardInserted, Reader: "A", ATR: []byte{0x3B, 0x8C}},
	}
	var got []ReaderEvent
	for len(got) < len(want) {
		select {
		case e := <-events:
			got = append(got, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("got only %+v", got)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %+v\nwant %+v", got, want)
	}
	cancel()
	for range events {
	}
	mu.Lock()
	defer mu.Unlock()
	// The service lost, then not there yet: each said once.
	if len(errs) != 2 || !errors.Is(errs[0], lost) {
		t.Fatalf("errors reported: %v", errs)
	}
}
