package bridge

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit"
)

// event is one Server-Sent Event.
type event struct {
	name string
	data []byte
}

// hub fans values out to the open streams. A value for a principal goes
// only to that principal's streams (an operation's progress and facts are
// its caller's; each local application is a principal of its own);
// broadcast reaches every stream. Revoking a principal's token ends its
// streams (drop). A stream that cannot keep up is
// closed rather than let it hold anyone up; its client reconnects and gets
// the current state again.
type hub[T any] struct {
	mu     sync.Mutex
	subs   map[*sub[T]]struct{}
	buffer int
	closed bool
}

type sub[T any] struct {
	origin string
	ch     chan T
}

// subBuffer is how far an event stream may fall behind.
const subBuffer = 256

func newHub[T any](buffer int) *hub[T] {
	return &hub[T]{subs: map[*sub[T]]struct{}{}, buffer: buffer}
}

func (h *hub[T]) subscribe(origin string) (*sub[T], bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	s := &sub[T]{origin: origin, ch: make(chan T, h.buffer)}
	h.subs[s] = struct{}{}
	return s, true
}

func (h *hub[T]) unsubscribe(s *sub[T]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// publish hands v to the streams of origin to.
func (h *hub[T]) publish(to string, v T) { h.send(v, func(s *sub[T]) bool { return s.origin == to }) }

// broadcast hands v to every stream.
func (h *hub[T]) broadcast(v T) { h.send(v, func(*sub[T]) bool { return true }) }

func (h *hub[T]) send(v T, to func(*sub[T]) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !to(s) {
			continue
		}
		select {
		case s.ch <- v:
		default:
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

// drop ends every stream of origin (its token was revoked).
func (h *hub[T]) drop(origin string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.origin == origin {
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

func (h *hub[T]) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}

// wants reports whether origin has a stream open.
func (h *hub[T]) wants(origin string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.origin == origin {
			return true
		}
	}
	return false
}

// emit sends an event to origin's streams only.
func (b *Bridge) emit(origin, name string, v any) {
	if !b.events.wants(origin) {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	b.events.publish(origin, event{name: name, data: data})
}

// publishReader reports a reader or card change to every stream.
func (b *Bridge) publishReader(e mynakit.ReaderEvent) {
	v := map[string]any{"reader": e.Reader}
	if len(e.ATR) > 0 {
		v["atr"] = strings.ToUpper(hex.EncodeToString(e.ATR))
	}
	b.events.broadcast(mustEvent(string(e.Kind), v))
}

// publishOperation reports an operation's state to its origin's streams.
func (b *Bridge) publishOperation(op *operation) {
	if op.action == ActionPair || !b.events.wants(op.origin) {
		return // a pairing's origin has no token, so no stream, yet
	}
	b.emit(op.origin, "operation", b.opJSON(op, false))
}

// publishConsent tells the counter page that a question for the holder
// opened or closed, so that it can be cancelled there.
func (b *Bridge) publishConsent(op *operation) {
	if op.origin == b.self {
		return // the counter's own questions are in its dialog
	}
	b.emit(b.self, "consent", b.consentJSON(op))
}

// publishProgress reports that a step of a read started.
func (b *Bridge) publishProgress(op *operation, p mynakit.Progress) {
	b.emit(op.origin, "progress", map[string]any{"operation": op.id, "step": p.Step, "part": p.Part})
}

// publishFacts sends a part's verified facts: the report so far, exactly
// as the Report's JSON.
func (b *Bridge) publishFacts(op *operation, p mynakit.Progress) {
	if !b.events.wants(op.origin) {
		return
	}
	rep, err := p.Report.MarshalJSON()
	if err != nil {
		return
	}
	v := map[string]any{"operation": op.id, "part": p.Part, "report": json.RawMessage(rep)}
	op.mu.Lock()
	if op.photoEarly != nil && p.Part == mynakit.PartSurface {
		v["photo_url"] = "/v1/operations/" + op.id + "/photo"
	}
	op.mu.Unlock()
	b.emit(op.origin, "facts", v)
}

// heartbeat keeps idle streams (and the proxies between) open.
const heartbeat = 15 * time.Second

// handleEvents streams the caller's events: reader and card changes (the
// present readers first), and its own operations' progress and facts.
func (b *Bridge) handleEvents(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	s, ok := b.events.subscribe(c.principal)
	if !ok {
		writeError(w, r, cancelledError(errClosed))
		return
	}
	defer b.events.unsubscribe(s)
	var first []event
	for _, rd := range b.snapshot() {
		first = append(first, mustEvent(string(mynakit.ReaderAdded), map[string]any{"reader": rd.Name}))
		if rd.CardPresent {
			first = append(first, mustEvent(string(mynakit.CardInserted), map[string]any{"reader": rd.Name, "atr": rd.ATR}))
		}
	}
	if c.session && b.clinic != nil {
		if ev, ok := b.clinic.folderEvent(); ok {
			first = append(first, ev)
		}
	}
	stream(b.ctx, w, r, s.ch, first, func(e event) (event, bool) { return e, true })
}

func mustEvent(name string, v any) event {
	data, _ := json.Marshal(v)
	return event{name: name, data: data}
}

// stream writes Server-Sent Events, first and then each value of ch as
// toEvent renders it (or, answering false, holds it back), until the
// client goes, the channel closes or the bridge stops (done).
func stream[T any](done context.Context, w http.ResponseWriter, r *http.Request, ch <-chan T, first []event, toEvent func(T) (event, bool)) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	id := 0
	send := func(e event) bool {
		id++
		_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", id, e.name, e.data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	for _, e := range first {
		if !send(e) {
			return
		}
	}
	t := time.NewTicker(heartbeat)
	defer t.Stop()
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				return
			}
			if e, give := toEvent(v); give && !send(e) {
				return
			}
		case <-t.C:
			_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-done.Done():
			return
		}
	}
}
