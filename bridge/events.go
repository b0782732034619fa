package bridge

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit"
)

// event is one Server-Sent Event. Events with an origin go only to that
// origin's streams: an operation's progress and facts are its caller's.
type event struct {
	origin string // "" for everyone
	name   string
	data   []byte
}

// hub fans events out to the open streams. A stream that cannot keep up
// is closed rather than let it hold anyone up; its client reconnects and
// gets the readers again.
type hub struct {
	mu     sync.Mutex
	subs   map[*sub]struct{}
	closed bool
}

type sub struct {
	origin string
	ch     chan event
}

const subBuffer = 256

func newHub() *hub { return &hub{subs: map[*sub]struct{}{}} }

func (h *hub) subscribe(origin string) (*sub, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	s := &sub{origin: origin, ch: make(chan event, subBuffer)}
	h.subs[s] = struct{}{}
	return s, true
}

func (h *hub) unsubscribe(s *sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

func (h *hub) publish(e event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if e.origin != "" && e.origin != s.origin {
			continue
		}
		select {
		case s.ch <- e:
		default:
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}

// wants reports whether a stream would receive an event for origin.
func (h *hub) wants(origin string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if origin == "" || s.origin == origin {
			return true
		}
	}
	return false
}

func (b *Bridge) emit(origin, name string, v any) {
	if !b.events.wants(origin) {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	b.events.publish(event{origin: origin, name: name, data: data})
}

// publishReader reports a reader or card change to every stream.
func (b *Bridge) publishReader(e mynakit.ReaderEvent) {
	v := map[string]any{"reader": e.Reader}
	if len(e.ATR) > 0 {
		v["atr"] = strings.ToUpper(hex.EncodeToString(e.ATR))
	}
	b.emit("", string(e.Kind), v)
}

// publishOperation reports an operation's state to its origin's streams.
func (b *Bridge) publishOperation(op *operation) {
	if op.action == "pair" || !b.events.wants(op.origin) {
		return // a pairing's origin has no token, so no stream, yet
	}
	b.emit(op.origin, "operation", b.opJSON(op, false))
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
	s, ok := b.events.subscribe(c.origin)
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
	b.stream(w, r, s.ch, first, nil)
}

func mustEvent(name string, v any) event {
	data, _ := json.Marshal(v)
	return event{name: name, data: data}
}

// stream writes Server-Sent Events until the client goes, the channel
// closes or the bridge stops.
func (b *Bridge) stream(w http.ResponseWriter, r *http.Request, ch <-chan event, first []event, render func(event) []byte) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	id := 0
	send := func(e event) bool {
		data := e.data
		if render != nil {
			if data = render(e); data == nil {
				return true
			}
		}
		id++
		_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", id, e.name, data); err != nil {
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
		case e, ok := <-ch:
			if !ok || !send(e) {
				return
			}
		case <-t.C:
			_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-b.ctx.Done():
			return
		}
	}
}
