package mynakit

import (
	"context"
	"time"

	"github.com/mynakit/mynakit/apdu/pcsc"
)

// ReaderEventKind says what changed.
type ReaderEventKind string

const (
	ReaderAdded   ReaderEventKind = "reader-added"
	ReaderRemoved ReaderEventKind = "reader-removed"
	CardInserted  ReaderEventKind = "card-inserted"
	CardRemoved   ReaderEventKind = "card-removed"
)

// ReaderEvent is one change of the readers or their cards. A removed
// reader first loses its card (CardRemoved), then itself (ReaderRemoved).
type ReaderEvent struct {
	Kind   ReaderEventKind
	Reader string
	ATR    []byte // CardInserted only
}

// WatchOptions tunes WatchReaders.
type WatchOptions struct {
	// Retry is how long to wait before reaching PC/SC again after it went
	// away or could not be reached (default 1s).
	Retry time.Duration
	// OnError, if set, is told why PC/SC could not be reached or was lost
	// (the watch goes on, retrying); the same error again is not repeated
	// until the watch has reached PC/SC in between.
	OnError func(error)
}

// WatchReaders reports reader and card changes through PC/SC until ctx
// ends, starting with the readers and cards there are now (as added and
// inserted). When the PC/SC service stops or restarts (pcscd), every reader
// is reported removed and the watch reaches the service again every
// opts.Retry, reporting the readers once it is back: a caller sees the
// readers again on its own. The channel is closed when ctx ends.
func WatchReaders(ctx context.Context, opts WatchOptions) <-chan ReaderEvent {
	return watchWith(ctx, opts, func() (readerSource, error) {
		pc, err := pcsc.Establish()
		if err != nil {
			return nil, err
		}
		return pcscSource{pc, pc.Watch()}, nil
	})
}

// readerSource is one connection to the service that lists readers.
type readerSource interface {
	Next(ctx context.Context) ([]pcsc.ReaderState, error)
	Close() error
}

type pcscSource struct {
	pc *pcsc.Context
	w  *pcsc.Watcher
}

func (s pcscSource) Next(ctx context.Context) ([]pcsc.ReaderState, error) { return s.w.Next(ctx) }
func (s pcscSource) Close() error                                         { return s.pc.Close() }

func watchWith(ctx context.Context, opts WatchOptions, connect func() (readerSource, error)) <-chan ReaderEvent {
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	out := make(chan ReaderEvent, 16)
	go func() {
		defer close(out)
		var known []pcsc.ReaderState
		lastErr := ""
		send := func(e ReaderEvent) bool {
			select {
			case out <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		report := func(now []pcsc.ReaderState) bool {
			for _, e := range readerDiff(known, now) {
				if !send(e) {
					return false
				}
			}
			known = now
			return true
		}
		for ctx.Err() == nil {
			src, err := connect()
			if err == nil {
				lastErr = ""
				for {
					var now []pcsc.ReaderState
					now, err = src.Next(ctx)
					if err != nil {
						break
					}
					if !report(now) {
						break
					}
				}
				src.Close()
			}
			if ctx.Err() != nil {
				return
			}
			if opts.OnError != nil && err.Error() != lastErr {
				lastErr = err.Error()
				opts.OnError(err)
			}
			// The service is gone: so are its readers, until it is back.
			if !report(nil) {
				return
			}
			t := time.NewTimer(opts.Retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// readerDiff lists the events that turn before into after.
func readerDiff(before, after []pcsc.ReaderState) []ReaderEvent {
	var out []ReaderEvent
	find := func(list []pcsc.ReaderState, name string) (pcsc.ReaderState, bool) {
		for _, r := range list {
			if r.Name == name {
				return r, true
			}
		}
		return pcsc.ReaderState{}, false
	}
	for _, b := range before {
		a, ok := find(after, b.Name)
		if !ok {
			if b.CardPresent {
				out = append(out, ReaderEvent{Kind: CardRemoved, Reader: b.Name})
			}
			out = append(out, ReaderEvent{Kind: ReaderRemoved, Reader: b.Name})
			continue
		}
		// Seen present twice with card events in between: pulled and put
		// back (or another card put in). The ATR cannot tell: two cards of
		// one model share it.
		swapped := b.CardPresent && a.CardPresent && b.Events != a.Events
		if b.CardPresent && (!a.CardPresent || swapped) {
			out = append(out, ReaderEvent{Kind: CardRemoved, Reader: b.Name})
		}
		if a.CardPresent && (!b.CardPresent || swapped) {
			out = append(out, ReaderEvent{Kind: CardInserted, Reader: a.Name, ATR: append([]byte(nil), a.ATR...)})
		}
	}
	for _, a := range after {
		if _, ok := find(before, a.Name); ok {
			continue
		}
		out = append(out, ReaderEvent{Kind: ReaderAdded, Reader: a.Name})
		if a.CardPresent {
			out = append(out, ReaderEvent{Kind: CardInserted, Reader: a.Name, ATR: append([]byte(nil), a.ATR...)})
		}
	}
	return out
}
