//go:build cgo || windows

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/mynakit/mynakit/apdu"
)

// Context is a PC/SC resource-manager context.
type Context struct {
	ctx *scard.Context
	// pending is non-nil while a Connect abandoned by its context still
	// waits in PC/SC (pcsc-lite makes SCardConnect wait while another
	// application holds the card in a transaction); it is closed when that
	// wait ends. PC/SC serialises calls on one context, so Close must not
	// block on it.
	mu      sync.Mutex
	pending chan struct{}
}

// Establish connects to the PC/SC service (pcscd).
func Establish() (*Context, error) {
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, fmt.Errorf("establish PC/SC context: %w", mapErr(err))
	}
	return &Context{ctx: c}, nil
}

// Available reports whether this build can talk to PC/SC at all.
func Available() bool { return true }

// Close releases the context. While a cancelled Connect still waits in
// PC/SC, the release finishes in the background once that wait ends.
func (c *Context) Close() error {
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	if pending != nil {
		go func() {
			<-pending
			_ = c.ctx.Release()
		}()
		return nil
	}
	if err := c.ctx.Release(); err != nil {
		return mapErr(err)
	}
	return nil
}

// Readers lists the readers with card presence and ATR.
func (c *Context) Readers() ([]ReaderInfo, error) {
	names, err := c.ctx.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list readers: %w", mapErr(err))
	}
	if len(names) == 0 {
		return nil, nil
	}
	states := make([]scard.ReaderState, len(names))
	for i, n := range names {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	if err := c.ctx.GetStatusChange(states, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
		return nil, fmt.Errorf("reader status: %w", mapErr(err))
	}
	out := make([]ReaderInfo, len(names))
	for i, s := range states {
		out[i] = ReaderInfo{Name: s.Reader, CardPresent: s.EventState&scard.StatePresent != 0}
		if out[i].CardPresent {
			out[i].ATR = append([]byte(nil), s.Atr...)
		}
	}
	return out, nil
}

// waitFor blocks until the reader's presence equals present or ctx ends.
func (c *Context) waitFor(ctx context.Context, reader string, present bool) error {
	st := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	for {
		err := c.ctx.GetStatusChange(st, pollInterval)
		switch {
		case err == nil, errors.Is(err, scard.ErrTimeout):
		default:
			return fmt.Errorf("wait on %q: %w", reader, mapErr(err))
		}
		if err == nil {
			if st[0].EventState&scard.StateUnknown != 0 {
				return fmt.Errorf("wait on %q: %w", reader, apdu.ErrReaderGone)
			}
			if (st[0].EventState&scard.StatePresent != 0) == present {
				return nil
			}
			st[0].CurrentState = st[0].EventState &^ scard.StateChanged
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// WaitForCard blocks until a card is in reader.
func (c *Context) WaitForCard(ctx context.Context, reader string) error {
	return c.waitFor(ctx, reader, true)
}

// WaitForRemoval blocks until reader is empty.
func (c *Context) WaitForRemoval(ctx context.Context, reader string) error {
	return c.waitFor(ctx, reader, false)
}

// Connect opens a connection to the card in reader (T=1 or T=0).
func (c *Context) Connect(ctx context.Context, reader string, mode ShareMode) (*Transport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sm := scard.ShareShared
	if mode == ShareExclusive {
		sm = scard.ShareExclusive
	}
	type result struct {
		card *scard.Card
		err  error
	}
	done := make(chan result, 1)
	go func() {
		card, err := c.ctx.Connect(reader, sm, scard.ProtocolAny)
		done <- result{card, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// Another application holds the card; give up waiting now and
		// let go of the connection whenever PC/SC makes it.
		pending := make(chan struct{})
		c.mu.Lock()
		c.pending = pending
		c.mu.Unlock()
		go func() {
			if r := <-done; r.err == nil {
				_ = r.card.Disconnect(scard.LeaveCard)
			}
			close(pending)
		}()
		return nil, ctx.Err()
	}
	card, err := r.card, r.err
	if err != nil {
		return nil, fmt.Errorf("connect %q: %w", reader, mapErr(err))
	}
	t := &Transport{card: card, reader: reader, mode: sm}
	if st, err := card.Status(); err == nil {
		t.atr = append([]byte(nil), st.Atr...)
	}
	// The reader's longest APDU, when its driver says (CCID drivers do);
	// asked once per connection.
	if b, err := card.GetAttrib(scard.AttrMaxinput); err == nil && len(b) >= 4 {
		t.maxAPDU = int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
	}
	return t, nil
}

// MaxAPDU is the longest APDU the reader's driver says it carries, or 0
// when it does not say (apdu.MaxAPDUReporter).
func (t *Transport) MaxAPDU() int { return t.maxAPDU }

// Transport is a connection to one card; it implements apdu.Transport,
// apdu.Transactor and apdu.Resetter.
type Transport struct {
	mu      sync.Mutex
	card    *scard.Card
	reader  string
	mode    scard.ShareMode
	atr     []byte
	maxAPDU int
	closed  bool
	// begun is non-nil while a Begin abandoned by its context still waits
	// in PC/SC; it is closed when that wait ends. PC/SC serialises calls
	// on one context, so until then Close must not block on it.
	begun chan struct{}
}

// Reader is the reader's name.
func (t *Transport) Reader() string { return t.reader }

// ATR is the card's answer to reset as read at connect time.
func (t *Transport) ATR() []byte { return append([]byte(nil), t.atr...) }

// Transmit sends one APDU.
func (t *Transport) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("transmit: connection closed: %w", apdu.ErrTransport)
	}
	r, err := t.card.Transmit(cmd)
	if err != nil {
		return nil, fmt.Errorf("transmit: %w", t.explain(ctx, mapErr(err)))
	}
	if len(r) < 2 {
		// pcsc-lite can answer a card pulled mid-command with an empty
		// response and no error.
		return nil, fmt.Errorf("transmit: response of %d bytes: %w", len(r), t.explain(ctx, apdu.ErrTransport))
	}
	return r, nil
}

// explain refines a generic transmit failure: when the card was pulled in
// the middle of an exchange, pcsc-lite first answers "not transacted" and
// reports the removal only once its polling thread has seen the empty slot.
// explain waits a little for that verdict so callers get ErrCardRemoved.
func (t *Transport) explain(ctx context.Context, err error) error {
	if !errors.Is(err, apdu.ErrTransport) {
		return err
	}
	deadline := time.Now().Add(removalSettle)
	for {
		st, serr := t.card.Status()
		if serr != nil {
			if m := mapErr(serr); errors.Is(m, apdu.ErrCardRemoved) || errors.Is(m, apdu.ErrNoCard) {
				return fmt.Errorf("%w (%w)", apdu.ErrCardRemoved, err)
			}
			return err
		}
		if st.State&scard.Present == 0 {
			return fmt.Errorf("%w (%w)", apdu.ErrCardRemoved, err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Begin starts a PC/SC transaction. While another application holds the
// card, PC/SC waits; a cancelled ctx (Ctrl-C, SIGTERM) ends the wait at
// once, and a transaction that begins after that is ended straight away.
func (t *Transport) Begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- t.card.BeginTransaction() }()
	select {
	case err := <-done:
		if err != nil {
			return mapErr(err)
		}
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		begun := make(chan struct{})
		t.begun = begun
		t.mu.Unlock()
		go func() {
			if <-done == nil {
				_ = t.card.EndTransaction(scard.LeaveCard)
			}
			close(begun)
		}()
		return ctx.Err()
	}
}

// Busy reports whether a cancelled Begin still waits in PC/SC (another
// application holds the card). Closing the transport or its context would
// block until that wait ends; Close then finishes in the background.
func (t *Transport) Busy() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.begun == nil {
		return false
	}
	select {
	case <-t.begun:
		t.begun = nil
		return false
	default:
		return true
	}
}

// Wait returns a channel closed when no cancelled Begin waits any more.
func (t *Transport) idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.begun == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return t.begun
}

// Reconnect picks up a card another application reset (after
// apdu.ErrCardReset), leaving it as it is.
func (t *Transport) Reconnect(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.card.Reconnect(t.mode, scard.ProtocolAny, scard.LeaveCard); err != nil {
		return fmt.Errorf("reconnect: %w", mapErr(err))
	}
	return nil
}

// End ends the transaction, leaving the card as it is.
func (t *Transport) End() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.card.EndTransaction(scard.LeaveCard); err != nil {
		return mapErr(err)
	}
	return nil
}

// Reset warm-resets the card, which clears every verification it holds.
func (t *Transport) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.card.Reconnect(t.mode, scard.ProtocolAny, scard.ResetCard); err != nil {
		return fmt.Errorf("reset: %w", mapErr(err))
	}
	return nil
}

// Close disconnects, resetting the card so that no verification outlives
// this connection. While a cancelled Begin still waits in PC/SC, the
// disconnection is left to finish in the background once it ends, so that
// Ctrl-C is never held up by another application's transaction.
func (t *Transport) Close() error {
	if t.Busy() {
		go func() {
			<-t.idle()
			_ = t.disconnect()
		}()
		return nil
	}
	return t.disconnect()
}

func (t *Transport) disconnect() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if err := t.card.Disconnect(scard.ResetCard); err != nil {
		if err2 := mapErr(err); errors.Is(err2, apdu.ErrCardRemoved) {
			return nil
		}
		return fmt.Errorf("disconnect: %w", mapErr(err))
	}
	return nil
}
