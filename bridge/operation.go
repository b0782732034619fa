package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/mynakit/mynakit/pin"
)

// opState is where an operation is.
type opState string

const (
	stateQueued    opState = "queued"    // waiting for the reader
	stateRunning   opState = "running"   // talking to the card
	stateConsent   opState = "consent"   // waiting for the holder (a secret, or a pairing)
	stateDone      opState = "done"      // finished; the result is there
	stateFailed    opState = "failed"    // finished with an error
	stateCancelled opState = "cancelled" // cancelled (card pulled, caller, shutdown)
)

func (s opState) finished() bool { return s == stateDone || s == stateFailed || s == stateCancelled }

// result is what a finished operation hands its caller: JSON (the Report's
// own JSON for a read), and a picture for the photo and QR routes.
type result struct {
	json      json.RawMessage
	png       []byte // the photo or code, for /result of photo and qr operations
	photo     []byte // a read's photo as PNG, for /photo
	verdict   string // for the access log: a read's verdict
	pairToken string // a pairing's token, handed out once
}

// operation is one request to the card (or a pairing) with its lifecycle.
type operation struct {
	id      string
	origin  string
	action  Action
	reader  *reader // nil for a pairing or a clinic request
	gen     uint64
	data    []Data  // what it concerns, for the consent page and the log
	purpose purpose // what the consent page shows
	created time.Time
	// codeBFirst asks 照合番号B (the card-face data) rather than the PIN.
	codeBFirst bool
	// reserved: the request took its place in the reader's queue before
	// its body was read (see reserve).
	reserved bool

	ctx    context.Context
	cancel func(error)
	run    func(ctx context.Context, op *operation) (*result, error)

	mu      sync.Mutex
	state   opState
	changed chan struct{} // closed and replaced on every change
	ask     *ask          // while the holder is asked
	res     *result
	err     *apiError
	// photoEarly is a read's photo as PNG once the card face verified,
	// before the read is over.
	photoEarly []byte
	// faceImages are a read's card-face name and address images, once
	// the card face was read (before the read is over).
	faceImages *faceImages
	asked      bool // the holder was asked something (the answer was a 202)
	waiters    int  // requests sharing this operation (joined status requests)
}

// purpose is what an operation asks for, in words a holder reads on the
// consent page.
type purpose struct {
	What   string   // e.g. 券面事項を読み取る read the card's data
	Items  []string // the facts or keys concerned, each in Japanese and English
	Digest string   // the digest of what is signed, hex
	// DigestAlg names Digest's algorithm (SHA-256, SHA-384, SHA-512).
	DigestAlg string
	// Document names the document signed and its size ("" for a raw
	// digest).
	Document string
	Note     string
}

// ask is an open question to the holder.
type ask struct {
	req    pin.Request
	csrf   string
	answer chan answer // buffered 1
	pair   bool        // a pairing: approve or deny, no secret
	once   sync.Once
}

type answer struct {
	secret []byte
	deny   bool
}

func newOperation(parent context.Context, origin string, action Action, rd *reader, gen uint64, data []Data, p purpose, now time.Time) *operation {
	ctx, cancel := context.WithCancelCause(parent)
	return &operation{
		id: randomID(), origin: origin, action: action, reader: rd, gen: gen, data: data, purpose: p, created: now,
		ctx: ctx, cancel: cancel, state: stateQueued, changed: make(chan struct{}),
		waiters: 1, // the request that made it
	}
}

// set changes the state and wakes whoever waits on the operation.
func (op *operation) setLocked(s opState) {
	op.state = s
	close(op.changed)
	op.changed = make(chan struct{})
}

func (op *operation) set(s opState) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if !op.state.finished() {
		op.setLocked(s)
	}
}

// document is what the consent page says of the document signed (it
// gains the page count once the operation has the reader).
func (op *operation) document() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.purpose.Document
}

func (op *operation) addToDocument(s string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.purpose.Document += s
}

func (op *operation) wasAsked() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.asked
}

func (op *operation) isFinished() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.state.finished()
}

// view is the operation's state and what came with it.
func (op *operation) view() (opState, *ask, *result, *apiError, <-chan struct{}) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.state, op.ask, op.res, op.err, op.changed
}

// finish records the outcome.
func (op *operation) finish(res *result, aerr *apiError, cancelled bool) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.state.finished() {
		return
	}
	op.ask = nil
	op.res, op.err = res, aerr
	switch {
	case cancelled:
		op.setLocked(stateCancelled)
	case aerr != nil:
		op.setLocked(stateFailed)
	default:
		op.setLocked(stateDone)
	}
}

// forget drops the result (the photo and facts it holds) and ends the
// operation's context.
func (op *operation) forget() {
	op.cancel(errForgotten)
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.res != nil {
		pin.Wipe(op.res.png)
		pin.Wipe(op.res.photo)
		op.res = nil
	}
	pin.Wipe(op.photoEarly)
	op.photoEarly = nil
	if op.faceImages != nil {
		pin.Wipe(op.faceImages.name)
		pin.Wipe(op.faceImages.address)
		op.faceImages = nil
	}
	if !op.state.finished() {
		op.err = cancelledError(errClosed)
		op.setLocked(stateCancelled)
	}
}

var errForgotten = errors.New("the operation was forgotten")

// wait blocks until the operation reaches a state stop accepts or ctx
// ends.
func (op *operation) wait(ctx context.Context, stop func(opState) bool) opState {
	for {
		s, _, _, _, ch := op.view()
		if stop(s) {
			return s
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s
		}
	}
}

// Prompt is the operation's pin.Prompter: it puts the question on the
// consent page (or to the Consenter) and waits for the holder, at most
// ConsentTimeout. The session calls it outside any card transaction.
func (b *Bridge) prompt(op *operation) pin.PromptFunc {
	return func(ctx context.Context, req pin.Request) ([]byte, error) {
		if wait := b.limiter.wait(op.origin); wait > 0 {
			return nil, &rateLimitedError{wait: wait}
		}
		a := &ask{req: req, csrf: randomID(), answer: make(chan answer, 1)}
		withdraw, err := b.pose(op, a)
		if err != nil {
			return nil, err
		}
		defer withdraw()
		if b.opts.Consent != nil {
			var secret []byte
			err := b.askConsenter(ctx, func(tctx context.Context) (err error) {
				secret, err = b.opts.Consent.Secret(tctx, b.consentRequest(op, req))
				return err
			})
			if errors.Is(err, errConsentTimeout) {
				pin.Wipe(secret)
				return nil, err
			}
			return secret, err
		}
		ans, err := b.awaitAnswer(ctx, a)
		switch {
		case err != nil:
			return nil, err
		case ans.deny:
			return nil, errDenied
		}
		return ans.secret, nil
	}
}

// pose puts question a on op's consent page, unless op has finished, and
// returns the function that withdraws it and puts a still-unfinished op
// back to running.
func (b *Bridge) pose(op *operation, a *ask) (withdraw func(), err error) {
	op.mu.Lock()
	if op.state.finished() {
		op.mu.Unlock()
		return nil, context.Cause(op.ctx)
	}
	op.ask, op.asked = a, true
	op.setLocked(stateConsent)
	op.mu.Unlock()
	b.publishOperation(op)
	b.publishConsent(op)
	return func() {
		op.mu.Lock()
		if op.ask == a {
			op.ask = nil
			if !op.state.finished() {
				op.setLocked(stateRunning)
			}
		}
		op.mu.Unlock()
		b.publishOperation(op)
		b.publishConsent(op)
	}, nil
}

// askConsenter runs call, a question to the Consenter, bounded by
// ConsentTimeout; when that bound (not ctx) ended it, the error is
// errConsentTimeout.
func (b *Bridge) askConsenter(ctx context.Context, call func(context.Context) error) error {
	tctx, cancel := context.WithTimeoutCause(ctx, b.opts.ConsentTimeout, errConsentTimeout)
	defer cancel()
	err := call(tctx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(tctx), errConsentTimeout) {
		return errConsentTimeout
	}
	return err
}

// awaitAnswer waits for the consent page's answer to a, at most
// ConsentTimeout.
func (b *Bridge) awaitAnswer(ctx context.Context, a *ask) (answer, error) {
	t := time.NewTimer(b.opts.ConsentTimeout)
	defer t.Stop()
	select {
	case ans := <-a.answer:
		return ans, nil
	case <-t.C:
		return answer{}, errConsentTimeout
	case <-ctx.Done():
		return answer{}, context.Cause(ctx)
	}
}

// offer hands an answer to the question op has open, once.
func (op *operation) offer(csrf string, ans answer) bool {
	op.mu.Lock()
	a := op.ask
	op.mu.Unlock()
	if a == nil || a.csrf != csrf {
		return false
	}
	given := false
	a.once.Do(func() {
		a.answer <- ans
		given = true
	})
	return given
}

// Errors of the consent flow.
var (
	errDenied         = errors.New("the holder declined")
	errConsentTimeout = errors.New("no answer on the consent page in time")
)

// rateLimitedError: the origin gave wrong secrets and must wait.
type rateLimitedError struct{ wait time.Duration }

func (e *rateLimitedError) Error() string { return "too many wrong secrets from this origin" }

// limiter slows down an origin that gives wrong secrets: after the n-th
// wrong secret in a row it waits 5s·2^(n-1), at most ten minutes, before
// the bridge asks the holder anything for it again. The card's own retry
// counter and the session's retry guard (never the last try) still apply.
type limiter struct {
	mu  sync.Mutex
	now func() time.Time
	by  map[string]*strikes
}

type strikes struct {
	n     int
	until time.Time
}

func newLimiter(now func() time.Time) *limiter { return &limiter{now: now, by: map[string]*strikes{}} }

func (l *limiter) wait(origin string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.by[origin]
	if s == nil {
		return 0
	}
	return max(0, s.until.Sub(l.now()))
}

func (l *limiter) wrong(origin string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.by[origin]
	if s == nil {
		s = &strikes{}
		l.by[origin] = s
	}
	s.n++
	d := 5 * time.Second << min(s.n-1, 7)
	d = min(d, 10*time.Minute)
	s.until = l.now().Add(d)
}

func (l *limiter) right(origin string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.by, origin)
}
