package bridge_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/bridge"
)

// serviceBackend is the in-process readers behind a reader service whose
// state the test sets, and whose readers the test can unplug.
type serviceBackend struct {
	*bridge.LocalReaders
	mu     sync.Mutex
	err    error
	events chan mynakit.ReaderEvent
}

func (s *serviceBackend) CheckService(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *serviceBackend) set(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Watch passes on the readers' events and the test's own.
func (s *serviceBackend) Watch(ctx context.Context) <-chan mynakit.ReaderEvent {
	in := s.LocalReaders.Watch(ctx)
	out := make(chan mynakit.ReaderEvent)
	go func() {
		defer close(out)
		for {
			var e mynakit.ReaderEvent
			var ok bool
			select {
			case e, ok = <-in:
				if !ok {
					return
				}
			case e = <-s.events:
			case <-ctx.Done():
				return
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func startService(t *testing.T) (*env, *serviceBackend) {
	sb := &serviceBackend{events: make(chan mynakit.ReaderEvent)}
	e := start(t, withBackend(func(l *bridge.LocalReaders) bridge.Backend {
		sb.LocalReaders = l
		return sb
	}))
	return e, sb
}

// service is GET /v1/readers' service member and the number of readers.
func (e *env) service() (map[string]any, int) {
	e.t.Helper()
	r := e.do("GET", "/v1/readers", nil, nil)
	if r.status != 200 {
		e.t.Fatalf("GET /v1/readers: %d %s", r.status, r.body)
	}
	j := decodeJSON(e.t, r.body)
	s, ok := j["service"].(map[string]any)
	if !ok {
		e.t.Fatalf("no service in %s", r.body)
	}
	readers, _ := j["readers"].([]any)
	return s, len(readers)
}

func TestReaderServiceNotRunningAndRecovered(t *testing.T) {
	e, sb := startService(t)
	if s, n := e.service(); s["state"] != "ok" || n != 1 || s["ja"] != nil || s["en"] != nil {
		t.Fatalf("running service with a reader: %v (%d readers)", s, n)
	}
	sb.set(&wrapped{apdu.ErrNoService})
	s, n := e.service()
	if s["state"] != "service-not-running" {
		t.Fatalf("state = %v, want service-not-running", s["state"])
	}
	ja, _ := s["ja"].(string)
	en, _ := s["en"].(string)
	if !strings.Contains(ja, "スマートカードのサービスが動いていません") || !strings.Contains(ja, "pcscd") {
		t.Errorf("ja = %q", ja)
	}
	if !strings.Contains(en, "smart-card service is not running") || !strings.Contains(en, "Smart Card") || strings.Contains(en, "サービス") {
		t.Errorf("en = %q", en)
	}
	if n != 1 {
		t.Errorf("readers = %d: the readers member changed", n)
	}
	sb.set(nil)
	if s, _ := e.service(); s["state"] != "ok" || s["ja"] != nil || s["en"] != nil {
		t.Errorf("recovered service: %v, want ok with no advice", s)
	}
}

func TestReaderServiceUnpluggedAndNoReader(t *testing.T) {
	e, sb := startService(t)
	sb.events <- mynakit.ReaderEvent{Kind: mynakit.ReaderRemoved, Reader: simReader}
	e.waitReader(false, false)
	s, n := e.service()
	if s["state"] != "reader-unplugged" || n != 0 {
		t.Fatalf("unplugged: %v (%d readers)", s, n)
	}
	if ja, _ := s["ja"].(string); !strings.Contains(ja, "カードリーダーが外れました") {
		t.Errorf("ja = %q", ja)
	}
	if en, _ := s["en"].(string); !strings.Contains(en, "reader was disconnected") {
		t.Errorf("en = %q", en)
	}
	// The service stops and comes back with no reader: no reader, not unplugged.
	sb.set(apdu.ErrNoService)
	if s, _ := e.service(); s["state"] != "service-not-running" {
		t.Fatalf("stopped: %v", s)
	}
	sb.set(nil)
	s, _ = e.service()
	if s["state"] != "no-reader" {
		t.Fatalf("back with no reader: %v", s)
	}
	if ja, _ := s["ja"].(string); !strings.Contains(ja, "カードリーダーが見つかりません") {
		t.Errorf("ja = %q", ja)
	}
	if en, _ := s["en"].(string); !strings.HasPrefix(en, "no card reader") {
		t.Errorf("en = %q", en)
	}
	sb.events <- mynakit.ReaderEvent{Kind: mynakit.ReaderAdded, Reader: simReader}
	e.waitReader(true, false)
	if s, _ := e.service(); s["state"] != "ok" {
		t.Errorf("reader back: %v", s)
	}
}

// wrapped is an error that wraps another, as pcsc.Establish's do.
type wrapped struct{ err error }

func (w *wrapped) Error() string { return "establish PC/SC context: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
