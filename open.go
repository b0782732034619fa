package mynakit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/apdu/pcsc"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// ReaderInfo is one PC/SC reader.
type ReaderInfo struct {
	Name        string
	CardPresent bool
	ATR         []byte // when a card is present
}

// Readers lists the PC/SC readers, whether each holds a card, and its ATR.
func Readers(ctx context.Context) ([]ReaderInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pc, err := pcsc.Establish()
	if err != nil {
		return nil, fmt.Errorf("PC/SC: %w", err)
	}
	defer pc.Close()
	rs, err := pc.Readers()
	if err != nil {
		return nil, err
	}
	out := make([]ReaderInfo, len(rs))
	for i, r := range rs {
		out[i] = ReaderInfo{Name: r.Name, CardPresent: r.CardPresent, ATR: r.ATR}
	}
	return out, nil
}

// Errors a caller may want to tell apart.
var (
	// ErrNoReader: PC/SC lists no reader at all.
	ErrNoReader = errors.New("no card reader found")
	// ErrNoCard: no reader holds a card (and Wait was not set).
	ErrNoCard = errors.New("no card in the reader")
	// ErrReaderNotFound: OpenOptions.Reader matches no reader, or several.
	ErrReaderNotFound = errors.New("reader not found")
)

// OpenOptions says which card to open and how to ask for its secrets.
type OpenOptions struct {
	// Reader names the PC/SC reader: its index in Readers, or part of its
	// name (case-insensitive). Empty: the first reader holding a card.
	Reader string
	// Wait waits, until ctx ends, for a reader when none is attached and
	// then for a card when the reader is empty.
	Wait bool
	// OnWait, if set, is called when Open starts waiting: with "" while it
	// waits for a reader to be attached, then with the reader it waits on
	// for a card (to show "insert a card"). The library prints nothing
	// itself.
	OnWait func(reader string)
	// Exclusive opens the card for this application only (SCARD_SHARE_
	// EXCLUSIVE). Some contactless readers refuse it (docs/card.md §3.7).
	Exclusive bool

	// Prompter asks the user for secrets; nil never asks (only secrets the
	// read derives itself are used).
	Prompter pin.Prompter
	// AllowLastTry lets a VERIFY go ahead when a wrong secret would block
	// the key. Off, the session refuses instead.
	AllowLastTry bool
	// CodeBFirst asks for 照合番号B (printed on the card face) rather than
	// the 4-digit PIN, as at a counter where the holder types nothing.
	CodeBFirst bool
	// IdleWipe forgets held secrets after this long without use (0: never
	// before Close).
	IdleWipe time.Duration

	// CVCache remembers the card-verifiable certificates that verified, so
	// that the next card whose applets carry the same ones (every card of
	// one municipality) is read without them: see cardap.CVCache, which
	// also explains why that is sound. Share one across Cards; nil reads
	// every certificate whole.
	CVCache *cardap.CVCache

	// Debug, when set, gets every APDU and its response with its duration
	// (a support desk's view of a read). Secrets and the My Number are
	// redacted.
	Debug io.Writer

	// TrustDirs adds trust anchors from directories (*.pem X.509 roots,
	// *.json CV CA keys in the form of jlis-cv-ca-keys.json). The embedded
	// J-LIS production anchors are always used; test anchors are trusted
	// only through this explicit choice, or for a transport that is itself
	// a test card (TestAnchorProvider).
	TrustDirs []string
}

// TestAnchorProvider is implemented by transports that are not cards but
// test doubles — the in-process simulator — and names the test anchors
// their data is signed with (PEM roots, CV CA keys JSON). Only such a
// transport's own anchors are trusted without TrustDirs. A PC/SC reader
// never provides them, so a card behind a reader, even the simulator behind
// pcscd, is judged on J-LIS's anchors and the directories given.
type TestAnchorProvider interface {
	TestAnchors() (rootsPEM, cvKeysJSON []byte)
}

// Card is an open card: its transport, its PIN session and the trust
// anchors it is judged against. Its methods are safe for concurrent use
// and serialise: one operation at a time, each inside its own PC/SC
// transaction.
type Card struct {
	mu    sync.Mutex
	t     apdu.Transport
	card  *apdu.Card
	sess  *pin.Session
	store *trust.Store

	reader     string
	atr        []byte
	simulated  bool
	codeBFirst bool
	cvCache    *cardap.CVCache
	closeFn    func() error

	held bool // a transaction is open (only touched with mu held)
}

// Open opens the card in a PC/SC reader.
func Open(ctx context.Context, opts OpenOptions) (*Card, error) {
	pc, err := pcsc.Establish()
	if err != nil {
		return nil, fmt.Errorf("PC/SC: %w", err)
	}
	readers, err := pc.Readers()
	if err != nil {
		pc.Close()
		return nil, err
	}
	if opts.Wait && len(readers) == 0 {
		if readers, err = waitForReader(ctx, pc, opts.OnWait); err != nil {
			pc.Close()
			return nil, err
		}
	}
	name, err := pickReader(readers, opts.Reader)
	if opts.Wait && len(readers) > 0 && (errors.Is(err, ErrNoCard) || err == nil && !hasCard(readers, name)) {
		if name == "" {
			name = readers[0].Name
		}
		if opts.OnWait != nil {
			opts.OnWait(name)
		}
		if err = pc.WaitForCard(ctx, name); err != nil {
			err = fmt.Errorf("wait for a card in %q: %w", name, err)
		}
	}
	if err != nil {
		pc.Close()
		return nil, err
	}
	mode := pcsc.ShareShared
	if opts.Exclusive {
		mode = pcsc.ShareExclusive
	}
	t, err := pc.Connect(ctx, name, mode)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("connect to %q: %w", name, err)
	}
	c, err := newCard(t, name, t.ATR(), opts)
	if err != nil {
		t.Close()
		pc.Close()
		return nil, err
	}
	c.closeFn = func() error {
		if t.Busy() {
			// A cancelled wait for another application's transaction is
			// still pending in PC/SC, which serialises this context: let
			// the release finish when it ends.
			go func() { t.Close(); pc.Close() }()
			return nil
		}
		err := t.Close()
		pc.Close()
		return err
	}
	return c, nil
}

// readerPoll is how often Open looks for a reader while it waits for one.
const readerPoll = 500 * time.Millisecond

// waitForReader polls PC/SC until a reader is attached (OnWait is told
// once, with the name ""), or ctx ends.
func waitForReader(ctx context.Context, pc *pcsc.Context, onWait func(string)) ([]pcsc.ReaderInfo, error) {
	if onWait != nil {
		onWait("")
	}
	t := time.NewTicker(readerPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for a card reader: %w", ctx.Err())
		case <-t.C:
		}
		readers, err := pc.Readers()
		if err != nil {
			return nil, err
		}
		if len(readers) > 0 {
			return readers, nil
		}
	}
}

// ATRReporter is implemented by transports that know the card's answer to
// reset.
type ATRReporter interface{ ATR() []byte }

// OpenTransport opens a card on any transport — the in-process simulator,
// or a transport of the caller's own. name labels it in reports. Close
// closes the transport.
func OpenTransport(t apdu.Transport, name string, opts OpenOptions) (*Card, error) {
	var atr []byte
	if r, ok := t.(ATRReporter); ok {
		atr = r.ATR()
	}
	c, err := newCard(t, name, atr, opts)
	if err != nil {
		return nil, err
	}
	c.closeFn = t.Close
	return c, nil
}

// NewTrustStore is the store a card or a signature is judged against: the
// embedded J-LIS production anchors, the directories given, and a test
// double's own anchors.
func NewTrustStore(dirs []string, test TestAnchorProvider) (*trust.Store, error) {
	s := trust.Embedded()
	for _, d := range dirs {
		if err := s.AddDir(d); err != nil {
			return nil, err
		}
	}
	if test != nil {
		roots, cv := test.TestAnchors()
		const src = "mynakit simulator"
		if len(roots) > 0 {
			if err := s.AddPEM(roots, src); err != nil {
				return nil, err
			}
		}
		if len(cv) > 0 {
			if err := s.AddCVKeysJSON(cv, src); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func newCard(t apdu.Transport, name string, atr []byte, opts OpenOptions) (*Card, error) {
	test, _ := t.(TestAnchorProvider)
	store, err := NewTrustStore(opts.TrustDirs, test)
	if err != nil {
		return nil, err
	}
	var aopts []apdu.Option
	if opts.Debug != nil {
		aopts = append(aopts, apdu.WithTrace(newAPDULog(opts.Debug).trace))
	}
	c := &Card{t: t, card: apdu.NewCard(t, aopts...), store: store, reader: name, atr: atr, codeBFirst: opts.CodeBFirst, cvCache: opts.CVCache, simulated: test != nil}
	popts := []pin.Option{pin.WithAllowLastTry(opts.AllowLastTry), pin.WithPromptGate(gate{c})}
	if opts.CodeBFirst {
		popts = append(popts, pin.WithCodeBFirst())
	}
	if opts.IdleWipe > 0 {
		popts = append(popts, pin.WithIdleWipe(opts.IdleWipe))
	}
	c.sess = pin.NewSession(c.card, opts.Prompter, popts...)
	return c, nil
}

// Reader is the reader's name (or the transport's label).
func (c *Card) Reader() string { return c.reader }

// ATR is the card's answer to reset, when known.
func (c *Card) ATR() []byte { return append([]byte(nil), c.atr...) }

// Simulated reports whether the card is a test double whose own test
// anchors are trusted (see TestAnchorProvider).
func (c *Card) Simulated() bool { return c.simulated }

// Trust is the store the card is judged against.
func (c *Card) Trust() *trust.Store { return c.store.Clone() }

// Stats counts the APDUs and bytes exchanged so far.
func (c *Card) Stats() apdu.Stats { return c.card.Stats() }

// Close wipes the secrets and releases the card.
func (c *Card) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess.Close()
	if c.closeFn != nil {
		return c.closeFn()
	}
	return nil
}

// do runs fn inside one transaction. A card reset by another application
// (apdu.ErrCardReset) is reconnected and fn retried once with the secrets
// the session holds; a second reset is reported.
func (c *Card) do(ctx context.Context, fn func(ctx context.Context) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.transact(ctx, fn)
	if !errors.Is(err, apdu.ErrCardReset) {
		return err
	}
	r, ok := c.t.(apdu.Reconnector)
	if !ok {
		return err
	}
	if rerr := r.Reconnect(ctx); rerr != nil {
		return fmt.Errorf("%w; reconnecting failed: %w", err, rerr)
	}
	return c.transact(ctx, fn) // which forgets the card state the reset lost
}

func (c *Card) transact(ctx context.Context, fn func(ctx context.Context) error) error {
	tx, ok := c.t.(apdu.Transactor)
	if !ok {
		return fn(ctx)
	}
	if err := tx.Begin(ctx); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// Another application may have used the card since our last
	// transaction: what the session knew of its state is stale.
	c.sess.Invalidate()
	c.held = true
	err := fn(ctx)
	if c.held {
		c.held = false
		if endErr := tx.End(); endErr != nil && err == nil && !errors.Is(endErr, apdu.ErrCardRemoved) {
			err = fmt.Errorf("end transaction: %w", endErr)
		}
	}
	return err
}

// gate runs the session's prompts outside the card's transaction.
type gate struct{ c *Card }

// Around ends the transaction (if one is held), runs prompt, and begins a
// new one. It runs with c.mu held by do.
func (g gate) Around(ctx context.Context, prompt func() error) (bool, error) {
	c := g.c
	tx, ok := c.t.(apdu.Transactor)
	if !ok || !c.held {
		return false, prompt()
	}
	c.held = false
	if err := tx.End(); err != nil && !errors.Is(err, apdu.ErrCardRemoved) {
		return true, fmt.Errorf("end transaction before asking: %w", err)
	}
	perr := prompt()
	if err := tx.Begin(ctx); err != nil {
		return true, errors.Join(perr, fmt.Errorf("begin transaction after asking: %w", err))
	}
	c.held = true
	return true, perr
}

// pickReader chooses a reader: by index, by case-insensitive substring, or
// the first one holding a card.
func pickReader(readers []pcsc.ReaderInfo, want string) (string, error) {
	if len(readers) == 0 {
		return "", ErrNoReader
	}
	if want == "" {
		for _, r := range readers {
			if r.CardPresent {
				return r.Name, nil
			}
		}
		return "", fmt.Errorf("%w: none of %d reader(s) holds a card", ErrNoCard, len(readers))
	}
	if i, err := strconv.Atoi(want); err == nil {
		if i < 0 || i >= len(readers) {
			return "", fmt.Errorf("%w: index %d is not in 0-%d", ErrReaderNotFound, i, len(readers)-1)
		}
		return readers[i].Name, nil
	}
	var hits []string
	for _, r := range readers {
		if strings.Contains(strings.ToLower(r.Name), strings.ToLower(want)) {
			hits = append(hits, r.Name)
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("%w: no reader matches %q", ErrReaderNotFound, want)
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("%w: %q matches %d readers (%s); be more specific", ErrReaderNotFound, want, len(hits), strings.Join(hits, ", "))
}

func hasCard(readers []pcsc.ReaderInfo, name string) bool {
	for _, r := range readers {
		if r.Name == name {
			return r.CardPresent
		}
	}
	return false
}
