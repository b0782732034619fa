package bridge

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/advice"
	"github.com/mynakit/mynakit/apdu"
)

// reader is one reader as the bridge follows it.
type reader struct {
	name    string
	present bool
	atr     []byte
	gen     uint64        // which insertion: each inserted card gets the next number
	slot    chan struct{} // holds a token while an operation has the card
	waiting int           // operations waiting for the slot
	holder  *operation    // the operation that has the slot
	gone    bool          // the reader was removed

	cardID    string // the access log's hash of this insertion's card serial
	cardIDGen uint64
}

// readerJSON is a reader as GET /v1/readers lists it.
type readerJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	CardPresent bool   `json:"card_present"`
	ATR         string `json:"atr,omitempty"`
}

func (rd *reader) json(i int) readerJSON {
	j := readerJSON{ID: strconv.Itoa(i), Name: rd.name, CardPresent: rd.present}
	if rd.present {
		j.ATR = strings.ToUpper(hex.EncodeToString(rd.atr))
	}
	return j
}

// follow applies the backend's reader events until the bridge closes.
func (b *Bridge) follow(events <-chan mynakit.ReaderEvent) {
	defer b.wg.Done()
	for e := range events {
		b.apply(e)
	}
}

func (b *Bridge) apply(e mynakit.ReaderEvent) {
	b.mu.Lock()
	rd := b.findLocked(e.Reader)
	switch e.Kind {
	case mynakit.ReaderAdded:
		if rd == nil {
			rd = &reader{name: e.Reader, slot: make(chan struct{}, 1)}
			b.readers = append(b.readers, rd)
		}
		b.unplugged = false
	case mynakit.ReaderRemoved:
		if rd != nil {
			rd.gone, rd.present = true, false
			b.readers = removeReader(b.readers, rd)
			b.unplugged = len(b.readers) == 0
		}
	case mynakit.CardInserted:
		if rd == nil {
			rd = &reader{name: e.Reader, slot: make(chan struct{}, 1)}
			b.readers = append(b.readers, rd)
		}
		rd.present, rd.atr = true, append([]byte(nil), e.ATR...)
		rd.gen++
	case mynakit.CardRemoved:
		if rd != nil {
			rd.present, rd.atr = false, nil
			rd.gen++ // the next card is another insertion, even if the same one
		}
	}
	var cancelled []*operation
	if rd != nil && (e.Kind == mynakit.CardRemoved || e.Kind == mynakit.ReaderRemoved) {
		cancelled = b.cardGoneLocked(rd)
	}
	b.mu.Unlock()
	for _, op := range cancelled {
		op.cancel(errCardRemoved)
	}
	b.publishReader(e)
}

// cardGoneLocked forgets what the bridge held for the card that left rd:
// its operations are cancelled, their results dropped, and the facts kept
// for the clinic match forgotten.
func (b *Bridge) cardGoneLocked(rd *reader) []*operation {
	var out []*operation
	for id, op := range b.ops {
		if op.reader == rd {
			out = append(out, op)
			if op.isFinished() {
				op.forget()
				delete(b.ops, id)
			}
		}
	}
	for origin, f := range b.lastFacts {
		if f.reader == rd {
			delete(b.lastFacts, origin)
		}
	}
	rd.cardID, rd.cardIDGen = "", 0
	return out
}

func removeReader(list []*reader, rd *reader) []*reader {
	out := list[:0]
	for _, r := range list {
		if r != rd {
			out = append(out, r)
		}
	}
	return out
}

func (b *Bridge) findLocked(name string) *reader {
	for _, rd := range b.readers {
		if rd.name == name {
			return rd
		}
	}
	return nil
}

// lookup finds the reader a path names: its exact name or its index in
// GET /v1/readers.
func (b *Bridge) lookup(ref string) (*reader, *apiError) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if rd := b.findLocked(ref); rd != nil {
		return rd, nil
	}
	if i, err := strconv.Atoi(ref); err == nil && i >= 0 && i < len(b.readers) && strconv.Itoa(i) == ref {
		return b.readers[i], nil
	}
	return nil, newError(http.StatusNotFound, "no-reader", "リーダーが見つかりません no such reader (see /v1/readers)")
}

// holderAsks says whether the operation that has rd waits for the holder.
func (b *Bridge) holderAsks(rd *reader) bool {
	b.mu.Lock()
	h := rd.holder
	b.mu.Unlock()
	if h == nil {
		return false
	}
	s, _, _, _, _ := h.view()
	return s == stateConsent
}

// snapshot is the reader list.
func (b *Bridge) snapshot() []readerJSON {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]readerJSON, len(b.readers))
	for i, rd := range b.readers {
		out[i] = rd.json(i)
	}
	return out
}

// ServiceChecker is a Backend that can say whether its reader service
// (pcscd, or Windows' Smart Card service) can be reached now. The bridge
// asks it each time GET /v1/readers is answered.
type ServiceChecker interface {
	// CheckService is nil when the service answers, else why not
	// (apdu.ErrNoService when it is not running).
	CheckService(ctx context.Context) error
}

// Reader service states, as GET /v1/readers names them.
const (
	ServiceOK              = "ok"
	ServiceNotRunning      = "service-not-running"
	ServiceNoReader        = "no-reader"
	ServiceReaderUnplugged = "reader-unplugged"
	ServiceUnavailable     = "service-unavailable" // any other failure to reach PC/SC
)

// serviceJSON is the reader service's state with what to do about it, in
// Japanese and English (empty when the state is ok).
type serviceJSON struct {
	State string `json:"state"`
	JA    string `json:"ja,omitempty"`
	EN    string `json:"en,omitempty"`
}

// serviceState is the reader service's state now: whether the backend
// reaches its service, then whether there is a reader at all.
func (b *Bridge) serviceState(ctx context.Context) serviceJSON {
	var err error
	if sc, ok := b.opts.Backend.(ServiceChecker); ok {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = sc.CheckService(ctx)
		cancel()
	}
	b.mu.Lock()
	n, unplugged := len(b.readers), b.unplugged
	if err != nil {
		// The readers went with the service: that was no unplugging.
		b.unplugged = false
	}
	b.mu.Unlock()
	var state string
	switch {
	case errors.Is(err, apdu.ErrNoService):
		state = ServiceNotRunning
	case err != nil:
		state = ServiceUnavailable
	case n > 0:
		return serviceJSON{State: ServiceOK}
	case unplugged:
		state, err = ServiceReaderUnplugged, apdu.ErrReaderGone
	default:
		state, err = ServiceNoReader, mynakit.ErrNoReader
	}
	ja, en := splitAdvice(advice.For(err))
	if en == "" && ja == "" {
		en = err.Error()
	}
	return serviceJSON{State: state, JA: ja, EN: en}
}

// splitAdvice parses advice's "日本語 / English" into its two languages.
func splitAdvice(s string) (ja, en string) {
	i := strings.Index(s, "/ ")
	if i < 0 {
		return "", strings.TrimSpace(s)
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+2:])
}

func (b *Bridge) handleReaders(w http.ResponseWriter, r *http.Request) {
	write(w, r, http.StatusOK, map[string]any{"readers": b.snapshot(), "service": b.serviceState(r.Context())})
}

// Queue errors.
var (
	errQueueFull    = errors.New("the reader's queue is full")
	errQueueTimeout = errors.New("waited too long for the reader")
	errCardRemoved  = errors.New("the card was removed")
	errNoCard       = errors.New("no card in the reader")
	errClosed       = errors.New("the bridge is shutting down")
	// errWaitingConsent: the wait for the reader ended while the
	// operation that has it waits for the holder's consent.
	errWaitingConsent = errors.New("the reader waits for the holder's consent")
)

// acquire waits for op's reader: one operation at a time per reader, at
// most QueueDepth waiting, each for at most QueueWait.
func (b *Bridge) acquire(op *operation) (release func(), err error) {
	rd := op.reader
	b.mu.Lock()
	if !op.reserved {
		if rd.waiting >= b.opts.QueueDepth {
			b.mu.Unlock()
			return nil, errQueueFull
		}
		rd.waiting++
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		rd.waiting--
		b.mu.Unlock()
	}()
	t := time.NewTimer(b.opts.QueueWait)
	defer t.Stop()
	select {
	case rd.slot <- struct{}{}:
		b.mu.Lock()
		rd.holder = op
		b.mu.Unlock()
		return func() {
			b.mu.Lock()
			if rd.holder == op {
				rd.holder = nil
			}
			b.mu.Unlock()
			<-rd.slot
		}, nil
	case <-t.C:
		if b.holderAsks(rd) {
			return nil, errWaitingConsent
		}
		return nil, errQueueTimeout
	case <-op.ctx.Done():
		return nil, context.Cause(op.ctx)
	}
}
