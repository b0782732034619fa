package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/apdu/pcsc"
)

// Backend is where the bridge finds readers and opens their cards: PC/SC
// (PCSC), or transports held in process (LocalReaders).
type Backend interface {
	// Watch reports reader and card changes until ctx ends, starting with
	// the readers and cards there are now.
	Watch(ctx context.Context) <-chan mynakit.ReaderEvent
	// Open opens the card in the named reader. The bridge closes it when
	// the operation ends.
	Open(ctx context.Context, reader string, opts mynakit.OpenOptions) (*mynakit.Card, error)
}

// PCSC is the backend of PC/SC readers (pcscd). It follows the readers with
// mynakit.WatchReaders, so a pcscd that restarts under a running bridge is
// found again on its own.
type PCSC struct {
	// Retry is how often PC/SC is tried again while it is away (default 1s).
	Retry time.Duration
	// OnError is told why PC/SC could not be reached.
	OnError func(error)
}

// Watch follows the PC/SC readers.
func (p PCSC) Watch(ctx context.Context) <-chan mynakit.ReaderEvent {
	return mynakit.WatchReaders(ctx, mynakit.WatchOptions{Retry: p.Retry, OnError: p.OnError})
}

// CheckService reaches PC/SC once: nil when the service answers,
// apdu.ErrNoService when pcscd or the Smart Card service is not running.
func (p PCSC) CheckService(context.Context) error {
	c, err := pcsc.Establish()
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

// Open connects to the card in the reader.
func (p PCSC) Open(ctx context.Context, reader string, opts mynakit.OpenOptions) (*mynakit.Card, error) {
	opts.Reader, opts.Wait = reader, false
	return mynakit.Open(ctx, opts)
}

// LocalReaders are readers in process: transports the caller holds, such
// as the simulator, whose card the caller inserts and removes. A
// transport's own Insert and Remove methods (the simulator has them) are
// called too, so the card behaves as pulled.
type LocalReaders struct {
	mu      sync.Mutex
	readers []*localReader
	subs    map[*localSub]struct{}
}

type localReader struct {
	name    string
	t       apdu.Transport
	present bool
}

// NewLocalReaders makes an empty set of in-process readers.
func NewLocalReaders() *LocalReaders { return &LocalReaders{subs: map[*localSub]struct{}{}} }

// ErrNoSuchReader: no reader of that name.
var ErrNoSuchReader = errors.New("no such reader")

// Add adds a reader holding t; present says whether its card is in.
func (l *LocalReaders) Add(name string, t apdu.Transport, present bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.readers {
		if r.name == name {
			return fmt.Errorf("reader %q already added", name)
		}
	}
	l.readers = append(l.readers, &localReader{name: name, t: t, present: present})
	l.emitLocked(mynakit.ReaderEvent{Kind: mynakit.ReaderAdded, Reader: name})
	if present {
		l.emitLocked(mynakit.ReaderEvent{Kind: mynakit.CardInserted, Reader: name, ATR: atrOf(t)})
	}
	return nil
}

type inserter interface{ Insert() }
type remover interface{ Remove() }

// Insert puts the reader's card in.
func (l *LocalReaders) Insert(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.findLocked(name)
	if r == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchReader, name)
	}
	if r.present {
		return nil
	}
	if i, ok := r.t.(inserter); ok {
		i.Insert()
	}
	r.present = true
	l.emitLocked(mynakit.ReaderEvent{Kind: mynakit.CardInserted, Reader: name, ATR: atrOf(r.t)})
	return nil
}

// Remove pulls the reader's card.
func (l *LocalReaders) Remove(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.findLocked(name)
	if r == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchReader, name)
	}
	if !r.present {
		return nil
	}
	if rm, ok := r.t.(remover); ok {
		rm.Remove()
	}
	r.present = false
	l.emitLocked(mynakit.ReaderEvent{Kind: mynakit.CardRemoved, Reader: name})
	return nil
}

func (l *LocalReaders) findLocked(name string) *localReader {
	for _, r := range l.readers {
		if r.name == name {
			return r
		}
	}
	return nil
}

// Open opens the card in the named reader. Closing the card resets it
// (when the transport can) instead of closing the transport, as closing a
// PC/SC connection does: no verification outlives the operation.
func (l *LocalReaders) Open(ctx context.Context, name string, opts mynakit.OpenOptions) (*mynakit.Card, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	r := l.findLocked(name)
	l.mu.Unlock()
	if r == nil {
		return nil, fmt.Errorf("%w: %q", mynakit.ErrReaderNotFound, name)
	}
	if !r.present {
		return nil, fmt.Errorf("%w: %q", mynakit.ErrNoCard, name)
	}
	var t apdu.Transport = localTransport{r.t}
	if _, ok := r.t.(mynakit.TestAnchorProvider); ok {
		t = localTestTransport{localTransport{r.t}}
	}
	return mynakit.OpenTransport(t, name, opts)
}

// Watch reports the readers there are now, then every change, in order.
func (l *LocalReaders) Watch(ctx context.Context) <-chan mynakit.ReaderEvent {
	s := &localSub{wake: make(chan struct{}, 1)}
	out := make(chan mynakit.ReaderEvent)
	l.mu.Lock()
	for _, r := range l.readers {
		s.queue = append(s.queue, mynakit.ReaderEvent{Kind: mynakit.ReaderAdded, Reader: r.name})
		if r.present {
			s.queue = append(s.queue, mynakit.ReaderEvent{Kind: mynakit.CardInserted, Reader: r.name, ATR: atrOf(r.t)})
		}
	}
	l.subs[s] = struct{}{}
	l.mu.Unlock()
	s.wake <- struct{}{}
	go func() {
		defer close(out)
		defer func() {
			l.mu.Lock()
			delete(l.subs, s)
			l.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			}
			for {
				l.mu.Lock()
				if len(s.queue) == 0 {
					l.mu.Unlock()
					break
				}
				e := s.queue[0]
				s.queue = s.queue[1:]
				l.mu.Unlock()
				select {
				case out <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// localSub is one watcher's queue: events are never dropped and never
// block the caller that inserts or removes.
type localSub struct {
	queue []mynakit.ReaderEvent
	wake  chan struct{}
}

func (l *LocalReaders) emitLocked(e mynakit.ReaderEvent) {
	for s := range l.subs {
		s.queue = append(s.queue, e)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func atrOf(t apdu.Transport) []byte {
	if a, ok := t.(mynakit.ATRReporter); ok {
		return a.ATR()
	}
	return nil
}

// localTransport hands an in-process transport to the library without
// letting Card.Close close it (for the simulator, closing is pulling the
// card): Close resets the card instead. The optional interfaces the
// library uses are passed on where the transport has them.
type localTransport struct{ t apdu.Transport }

func (l localTransport) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	return l.t.Transmit(ctx, cmd)
}

func (l localTransport) Close() error {
	if r, ok := l.t.(apdu.Resetter); ok {
		if err := r.Reset(context.Background()); err != nil && !errors.Is(err, apdu.ErrCardRemoved) {
			return err
		}
	}
	return nil
}

func (l localTransport) ATR() []byte { return atrOf(l.t) }

// ExtendedLength is the transport's answer; one that does not say gets
// short reads.
func (l localTransport) ExtendedLength() bool {
	if e, ok := l.t.(apdu.ExtendedLengthReporter); ok {
		return e.ExtendedLength()
	}
	return false
}

func (l localTransport) Reconnect(ctx context.Context) error {
	if r, ok := l.t.(apdu.Reconnector); ok {
		return r.Reconnect(ctx)
	}
	return apdu.ErrCardReset
}

func (l localTransport) Begin(ctx context.Context) error {
	if tx, ok := l.t.(apdu.Transactor); ok {
		return tx.Begin(ctx)
	}
	return nil
}

func (l localTransport) End() error {
	if tx, ok := l.t.(apdu.Transactor); ok {
		return tx.End()
	}
	return nil
}

// localTestTransport is a localTransport whose transport names its own
// test anchors (the simulator).
type localTestTransport struct{ localTransport }

func (l localTestTransport) TestAnchors() (rootsPEM, cvKeysJSON []byte) {
	return l.t.(mynakit.TestAnchorProvider).TestAnchors()
}
