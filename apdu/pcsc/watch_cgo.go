//go:build cgo || windows

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ebfe/scard"
)

// pnpReader is PC/SC's pseudo-reader whose state changes when a reader is
// plugged in or out (pcsc-lite and WinSCard both know it).
const pnpReader = `\\?PnP?\Notification`

// Watcher follows the readers of one context: which exist and which hold a
// card. It waits in SCardGetStatusChange on every reader and on the PnP
// pseudo-reader, so a change is seen at once; where PnP is not supported it
// lists the readers again every pollInterval. A Watcher is not safe for
// concurrent use.
type Watcher struct {
	c      *Context
	states []scard.ReaderState // the known readers, then the PnP reader when supported
	last   []ReaderState
	primed bool
	noPnP  bool
}

// Watch starts following the readers of c.
func (c *Context) Watch() *Watcher { return &Watcher{c: c} }

// Next returns the readers: at once on the first call, then as soon as a
// reader is added or removed, a card is inserted or removed, or another
// card event is seen. It returns ctx's error when ctx ends, and a PC/SC
// error when the service goes away (pcscd stopped or restarted): the
// context is then of no further use.
func (w *Watcher) Next(ctx context.Context) ([]ReaderState, error) {
	if !w.primed {
		w.primed = true
		return w.refresh()
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := w.c.ctx.GetStatusChange(w.states, pollInterval)
		switch {
		case err == nil, errors.Is(err, scard.ErrTimeout):
		case errors.Is(err, scard.ErrUnknownReader):
			// A reader went away before we asked about it.
		default:
			return nil, fmt.Errorf("watch readers: %w", mapErr(err))
		}
		for i := range w.states {
			w.states[i].CurrentState = w.states[i].EventState &^ scard.StateChanged
		}
		now, err := w.refresh()
		if err != nil {
			return nil, err
		}
		if !sameReaders(now, w.last) {
			w.last = now
			return now, nil
		}
	}
}

// refresh lists the readers and reads their states without waiting.
func (w *Watcher) refresh() ([]ReaderState, error) {
	names, err := w.c.ctx.ListReaders()
	if err != nil && !errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, fmt.Errorf("list readers: %w", mapErr(err))
	}
	states := make([]scard.ReaderState, 0, len(names)+1)
	for _, n := range names {
		cur := scard.StateUnaware
		if i := slices.IndexFunc(w.states, func(s scard.ReaderState) bool { return s.Reader == n }); i >= 0 {
			cur = w.states[i].CurrentState
		}
		states = append(states, scard.ReaderState{Reader: n, CurrentState: cur})
	}
	if !w.noPnP {
		cur := scard.StateUnaware
		if len(w.states) > 0 && w.states[len(w.states)-1].Reader == pnpReader {
			cur = w.states[len(w.states)-1].CurrentState
		}
		states = append(states, scard.ReaderState{Reader: pnpReader, CurrentState: cur})
	}
	if len(states) > 0 {
		// With every state known this returns at once (timeout 0 means
		// "do not wait"); a state that changed meanwhile is seen now.
		probe := slices.Clone(states)
		for i := range probe {
			probe[i].CurrentState = scard.StateUnaware
		}
		if err := w.c.ctx.GetStatusChange(probe, 0); err != nil && !errors.Is(err, scard.ErrTimeout) && !errors.Is(err, scard.ErrUnknownReader) {
			return nil, fmt.Errorf("reader status: %w", mapErr(err))
		}
		for i := range states {
			states[i].EventState, states[i].Atr = probe[i].EventState, probe[i].Atr
			if states[i].CurrentState == scard.StateUnaware {
				states[i].CurrentState = probe[i].EventState &^ scard.StateChanged
			}
		}
		if !w.noPnP {
			pnp := states[len(states)-1]
			if pnp.EventState&(scard.StateUnknown|scard.StateIgnore) != 0 {
				// No PnP notifications here: list the readers on every
				// poll instead.
				w.noPnP = true
				states = states[:len(states)-1]
			}
		}
	}
	w.states = states
	out := make([]ReaderState, 0, len(names))
	for _, s := range states {
		if s.Reader == pnpReader || s.EventState&(scard.StateUnknown|scard.StateIgnore) != 0 {
			continue
		}
		r := ReaderState{ReaderInfo: ReaderInfo{Name: s.Reader, CardPresent: s.EventState&scard.StatePresent != 0}, Events: int(uint32(s.EventState) >> 16)}
		if r.CardPresent {
			r.ATR = append([]byte(nil), s.Atr...)
		}
		out = append(out, r)
	}
	if w.last == nil {
		w.last = out
	}
	return out, nil
}
