// Package pin keeps one PIN session per inserted card: it asks the user for
// each kind of secret at most once, verifies every applet that needs it,
// never spends a key's last try unless told to, and wipes secrets when done.
//
// The card has one key EF per secret per applet (docs/card.md §3.1), and
// selecting an applet clears what was verified (§3.7). The session tracks
// the current applet and what is verified in it, and re-verifies with the
// secrets it holds after a reselect. Every command to the card goes through
// the session under its lock, so the session always knows the card's state.
//
// The session never derives a secret from card data on its own: a caller
// that has read and verified the My Number (照合番号A) or the birth date (the
// card face's birth key) hands it over with Learn. A secret typed by the user
// (照合番号B) yields the birth key, its first six digits (§3.6).
package pin

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// Session is one card's PIN session. Its methods are safe for concurrent
// use, but they serialise: a card is one conversation.
type Session struct {
	mu       sync.Mutex
	card     *apdu.Card
	prompter Prompter
	gate     PromptGate
	guard    int
	allowAll bool
	idle     time.Duration
	// codeBFirst: ask 照合番号B rather than the short PIN where either
	// would open a file.
	codeBFirst bool
	timer      *time.Timer
	closed     error // why the session ended; nil while open

	secrets map[myna.Secret]*Secret
	wrong   map[myna.Secret]bool // a value of this kind was rejected

	// What the card holds, as far as the session knows. Invalidate forgets
	// it (another application may have used the card in between).
	current  myna.Applet          // 0: unknown or the power-on state
	verified map[uint16]bool      // keys this session verified in the current applet
	tries    map[myna.KeyName]int // tries left, read once per key
	// said9000: keys of the current applet whose tries query the card
	// answered 9000 (docs/card.md §3.2). That answer is a status word,
	// never evidence that a key is verified: such a key is not in
	// verified, a held secret is still presented to it, and nothing
	// reports it accepted.
	said9000 map[uint16]bool
}

// PromptGate runs a prompt while no transaction holds the card: a PC/SC
// card held in a transaction for more than a few seconds is reset by
// Windows, and a held card keeps every other application waiting while the
// user types. Around ends the caller's transaction, runs prompt, begins it
// again, and reports whether the card was released meanwhile (the session
// then forgets what it knew of the card's state).
type PromptGate interface {
	Around(ctx context.Context, prompt func() error) (released bool, err error)
}

// Option configures a Session.
type Option func(*Session)

// WithRetryGuard refuses a VERIFY when the key has this many tries left or
// fewer (default 1: the last try is never spent without consent).
func WithRetryGuard(n int) Option { return func(s *Session) { s.guard = n } }

// WithAllowLastTry lets VERIFY go ahead whatever the tries left
// (--allow-last-try).
func WithAllowLastTry(allow bool) Option { return func(s *Session) { s.allowAll = allow } }

// WithCodeBFirst makes the session ask for 照合番号B rather than the short
// PIN when a file that 照合番号B opens needs a secret the session does not
// hold: the card face, the text applet's 基本4情報, the birth key. For
// callers such as a counter, where the holder shows the card but types no
// PIN.
func WithCodeBFirst() Option { return func(s *Session) { s.codeBFirst = true } }

// WithIdleWipe wipes the held secrets after d without use.
func WithIdleWipe(d time.Duration) Option { return func(s *Session) { s.idle = d } }

// WithPromptGate runs every prompt through g (see PromptGate).
func WithPromptGate(g PromptGate) Option { return func(s *Session) { s.gate = g } }

// NewSession starts a session on card; prompts go to p (nil: never prompt,
// only secrets given with Learn are used).
func NewSession(card *apdu.Card, p Prompter, opts ...Option) *Session {
	s := &Session{
		card:     card,
		prompter: p,
		guard:    1,
		secrets:  map[myna.Secret]*Secret{},
		wrong:    map[myna.Secret]bool{},
		verified: map[uint16]bool{},
		tries:    map[myna.KeyName]int{},
		said9000: map[uint16]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Stats is the card's traffic so far.
func (s *Session) Stats() apdu.Stats { return s.card.Stats() }

// Close wipes every secret and ends the session.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wipeLocked()
	if s.closed == nil {
		s.closed = ErrSessionClosed
	}
	return nil
}

// Wipe forgets every secret now (the session stays usable and will ask again).
func (s *Session) Wipe() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wipeLocked()
}

func (s *Session) wipeLocked() {
	for k := range s.secrets {
		s.forgetLocked(k)
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// Invalidate forgets what the session knew of the card's state — the
// current applet, what is verified, the tries read — but keeps the secrets.
// Call it when another application may have used the card (after a
// transaction ended) or the card was reset; the session then reselects,
// rereads tries and re-verifies as needed.
func (s *Session) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidateLocked()
}

func (s *Session) invalidateLocked() {
	s.current = 0
	s.verified = map[uint16]bool{}
	s.said9000 = map[uint16]bool{}
	s.tries = map[myna.KeyName]int{}
}

// touch re-arms the idle wipe.
func (s *Session) touch() {
	if s.idle <= 0 {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(s.idle, s.Wipe)
}

// Learn gives the session a secret its caller read from the card and
// verified (the My Number as 照合番号A, the birth date as the birth key). The
// session copies value; an invalid value is ignored and reported false.
func (s *Session) Learn(kind myna.Secret, value []byte) bool {
	v, err := Normalize(kind, value)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetLocked(kind)
	s.secrets[kind] = &Secret{b: v}
	s.touch()
	return true
}

// Holds reports whether the session holds a secret of the kind.
func (s *Session) Holds(kind myna.Secret) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets[kind] != nil
}

// check turns card removal into a dead session that remembers why.
func (s *Session) check(err error) error {
	if errors.Is(err, apdu.ErrCardRemoved) || errors.Is(err, apdu.ErrReaderGone) {
		s.wipeLocked()
		s.closed = err
		s.invalidateLocked()
	}
	if errors.Is(err, apdu.ErrCardReset) {
		// The card lost every verification; the secrets stay for a retry.
		s.invalidateLocked()
	}
	return err
}

// usable says why the session cannot talk to the card, if it cannot. A
// session ended by a pulled card keeps answering with that cause, so the
// caller sees "card removed", not only "session closed".
func (s *Session) usable() error {
	switch {
	case s.closed == nil:
		return nil
	case errors.Is(s.closed, ErrSessionClosed):
		return s.closed
	}
	return fmt.Errorf("%w: %w", ErrSessionClosed, s.closed)
}

// Select makes applet a current, unless it already is. Selecting clears
// what the card had verified.
func (s *Session) Select(ctx context.Context, a myna.Applet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selectLocked(ctx, a)
}

func (s *Session) selectLocked(ctx context.Context, a myna.Applet) error {
	if err := s.usable(); err != nil {
		return err
	}
	if s.current == a {
		return nil
	}
	s.current = 0
	s.verified = map[uint16]bool{}
	s.said9000 = map[uint16]bool{}
	if err := s.card.SelectAID(ctx, a.AID()); err != nil {
		return s.check(fmt.Errorf("select %s: %w", a.JapaneseName(), err))
	}
	s.current = a
	return nil
}

// selectMFLocked returns the card to its power-on state by selecting the
// GlobalPlatform issuer security domain (docs/card.md §1.2), where the
// MF-level GET DATA objects answer. Verifications are lost, as on any
// applet selection.
func (s *Session) selectMFLocked(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return err
	}
	s.current = 0
	s.verified = map[uint16]bool{}
	s.said9000 = map[uint16]bool{}
	if err := s.card.SelectAID(ctx, myna.ISDAID()); err != nil {
		return s.check(fmt.Errorf("select the issuer security domain: %w", err))
	}
	return nil
}

// Open selects applet a and verifies whichever key opens EF fid (a data
// file or a private key), asking for the secret if the session does not
// hold it. Free files need nothing.
func (s *Session) Open(ctx context.Context, a myna.Applet, fid uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openLocked(ctx, a, fid)
}

func (s *Session) openLocked(ctx context.Context, a myna.Applet, fid uint16) error {
	if err := s.selectLocked(ctx, a); err != nil {
		return err
	}
	openers, known := myna.Openers(a, fid)
	if !known || len(openers) == 0 {
		return nil
	}
	for _, k := range openers {
		if s.verified[k] {
			return nil
		}
	}
	defer s.touch()
	var notes []error
	note := func(err error) {
		// Two keys refused for one reason (no way to ask, say) are said once.
		for _, n := range notes {
			if n.Error() == err.Error() {
				return
			}
		}
		notes = append(notes, err)
	}
	// 1. Secrets held, without asking.
	for _, fidKey := range openers {
		key, _ := myna.KeyAt(a, fidKey)
		sec := s.heldFor(key)
		if sec == nil {
			continue
		}
		err := s.verifyLocked(ctx, key, sec)
		if err == nil || !fallBack(err) {
			return err
		}
		note(err)
	}
	// 2. Ask, in order of what the holder can best give: a PIN, else
	// 照合番号B (read off the card face), and the My Number as 照合番号A
	// last (12 digits typed by hand, and personal data); 照合番号B first when
	// the caller asked for it.
	openers = askOrder(a, openers, s.codeBFirst)
	for _, fidKey := range openers {
		key, _ := myna.KeyAt(a, fidKey)
		if s.heldFor(key) != nil {
			continue // tried above
		}
		_, said9000, err := s.triesLocked(ctx, key)
		switch {
		case err != nil && fallBack(err):
			note(err)
			continue
		case err != nil:
			return err
		case said9000:
			// The card says the key needs nothing now: read on without
			// asking. The key is not recorded as verified (a status word
			// proves nothing); a file the card then refuses is a refusal.
			return nil
		}
		sec, err := s.askFor(ctx, key)
		if err != nil {
			if fallBack(err) {
				note(err)
				continue
			}
			// Say why the preferred key was not used, too.
			return fmt.Errorf("open %s EF %04X: %w", a.JapaneseName(), fid, errors.Join(append(notes, err)...))
		}
		err = s.verifyLocked(ctx, key, sec)
		if err == nil || !fallBack(err) {
			return err
		}
		note(err)
	}
	if len(notes) == 0 {
		notes = append(notes, fmt.Errorf("%w for %s EF %04X", ErrNoSecret, a.Name(), fid))
	}
	return fmt.Errorf("open %s EF %04X: %w", a.JapaneseName(), fid, errors.Join(notes...))
}

// askOrder sorts openers for asking: PINs and passwords, 照合番号B, the
// birth key (asked as 照合番号B), 照合番号A; with codeBFirst, 照合番号B before
// the PINs.
func askOrder(a myna.Applet, openers []uint16, codeBFirst bool) []uint16 {
	rank := func(fid uint16) int {
		k, _ := myna.KeyAt(a, fid)
		switch k.Secret {
		case myna.CodeB:
			if codeBFirst {
				return 0
			}
			return 2
		case myna.BirthKey:
			return 3
		case myna.CodeA:
			return 4
		}
		return 1
	}
	out := append([]uint16(nil), openers...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// heldFor returns the secret the session holds for key, deriving the birth
// key from a held 照合番号B (its first six digits, docs/card.md §3.6).
func (s *Session) heldFor(key myna.Key) *Secret {
	if sec := s.secrets[key.Secret]; sec != nil {
		return sec
	}
	if key.Secret == myna.BirthKey {
		if b := s.secrets[myna.CodeB]; b != nil && len(b.b) >= 6 {
			s.secrets[myna.BirthKey] = &Secret{b: append([]byte(nil), b.b[:6]...)}
			return s.secrets[myna.BirthKey]
		}
	}
	return nil
}

// askFor prompts for the secret key needs. The birth key is asked as
// 照合番号B (what the holder can read off the card), of which it is the
// first six digits.
func (s *Session) askFor(ctx context.Context, key myna.Key) (*Secret, error) {
	if key.Secret != myna.BirthKey {
		return s.ask(ctx, key)
	}
	asB := key
	asB.Secret = myna.CodeB
	b, err := s.ask(ctx, asB)
	if err != nil {
		return nil, err
	}
	s.secrets[myna.BirthKey] = &Secret{b: append([]byte(nil), b.b[:6]...)}
	return s.secrets[myna.BirthKey], nil
}

// Unavailable reports whether err says a secret could not be had or used —
// none given, the key blocked, or guarded by the retry guard — as opposed
// to a wrong secret (a try spent) or a card that could not be reached. A
// caller may then try another way in.
func Unavailable(err error) bool { return fallBack(err) && !errors.Is(err, apdu.ErrFileNotFound) }

// fallBack reports whether another secret may be tried after err: the
// secret could not be had or used (none given, key blocked or guarded, a
// key the card does not have). A wrong secret is not such an error: it
// ends the attempt, so the user is not asked again at once.
func fallBack(err error) bool {
	if errors.Is(err, ErrWrongSecret) {
		return false
	}
	return errors.Is(err, ErrNoSecret) || errors.Is(err, ErrKeyBlocked) || errors.Is(err, ErrWouldBlock) ||
		errors.Is(err, apdu.ErrFileNotFound)
}

// triesLocked reads, without using a try, how many tries key has left in
// the current applet — once per key while the card's state is known.
//
// said9000 is true when the card answered the query 9000 instead of 63Cx.
// docs/card.md §3.2 records two readings — "already verified in this card
// session" and "full counter" — and either means the counter is full, so
// left is then the key's limit. It is only ever that: a status word is not
// evidence, so the key is not taken as verified, a held secret is still
// sent to it, and nothing reports it accepted (a shim answering 9000 for a
// code never sent would otherwise pass as the card's acceptance).
func (s *Session) triesLocked(ctx context.Context, key myna.Key) (left int, said9000 bool, err error) {
	if n, ok := s.tries[key.Name]; ok {
		return n, s.said9000[key.FID], nil
	}
	left, said9000, err = s.card.VerifyStatus(ctx, apdu.KeySFI(key.FID))
	if err != nil {
		return 0, false, s.check(fmt.Errorf("tries left on %s: %w", key.Name, err))
	}
	if said9000 {
		s.said9000[key.FID] = true
		left = key.MaxTries
	}
	s.tries[key.Name] = left
	return left, said9000, nil
}

// ask prompts for the secret key needs, after checking locally that the key
// can take a try, and validates the answer before anything is sent. The
// prompt runs through the gate, outside any transaction.
func (s *Session) ask(ctx context.Context, key myna.Key) (*Secret, error) {
	if s.prompter == nil {
		return nil, fmt.Errorf("%w: %s for %s", ErrNoSecret, key.Secret, key.Name)
	}
	if err := s.selectLocked(ctx, key.Applet); err != nil {
		return nil, err
	}
	left, said9000, err := s.triesLocked(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := s.guardCheck(key, left); err != nil {
		return nil, err
	}
	if said9000 {
		left = -1 // the card did not say
	}
	req := Request{Kind: key.Secret, Remaining: left, Retry: s.wrong[key.Secret]}
	var raw []byte
	prompt := func() error {
		var err error
		raw, err = s.prompter.Prompt(ctx, req)
		return err
	}
	if s.gate != nil {
		released, gerr := s.gate.Around(ctx, prompt)
		if released {
			s.invalidateLocked()
		}
		err = gerr
	} else {
		err = prompt()
	}
	if err != nil {
		Wipe(raw)
		return nil, err
	}
	v, err := Normalize(key.Secret, raw)
	Wipe(raw)
	if err != nil {
		return nil, err
	}
	sec := &Secret{b: v}
	s.secrets[key.Secret] = sec
	return sec, nil
}

func (s *Session) guardCheck(key myna.Key, left int) error {
	if left == 0 {
		return &BlockedError{Key: key}
	}
	if !s.allowAll && left <= s.guard {
		return &WouldBlockError{Key: key, Remaining: left}
	}
	return nil
}

// verifyLocked presents sec to key: it knows the tries left first (read
// once, no try used), applies the retry guard, then VERIFYs. A rejected
// secret is dropped from the session.
func (s *Session) verifyLocked(ctx context.Context, key myna.Key, sec *Secret) error {
	if err := s.selectLocked(ctx, key.Applet); err != nil {
		return err
	}
	if s.verified[key.FID] {
		return nil // this session's own VERIFY, since the applet was selected
	}
	left, _, err := s.triesLocked(ctx, key)
	if err != nil {
		return err
	}
	if err := s.guardCheck(key, left); err != nil {
		return err
	}
	err = s.card.Verify(ctx, apdu.KeySFI(key.FID), sec.b)
	var wp *apdu.WrongPINError
	switch {
	case err == nil:
		s.verified[key.FID] = true
		s.tries[key.Name] = max(key.MaxTries, left)
		s.wrong[key.Secret] = false
		return nil
	case errors.As(err, &wp):
		s.tries[key.Name] = wp.Remaining
		s.dropLocked(key.Secret)
		return &WrongSecretError{Key: key, Remaining: wp.Remaining}
	case errors.Is(err, apdu.ErrBlocked):
		s.tries[key.Name] = 0
		return &BlockedError{Key: key}
	}
	delete(s.tries, key.Name) // the try may or may not have been counted
	return s.check(fmt.Errorf("verify %s: %w", key.Name, err))
}

// dropLocked forgets a rejected secret, and what shares its digits:
// 照合番号B begins with the birth key.
func (s *Session) dropLocked(kind myna.Secret) {
	s.forgetLocked(kind)
	s.wrong[kind] = true
	switch kind {
	case myna.CodeB:
		s.forgetLocked(myna.BirthKey)
	case myna.BirthKey:
		s.forgetLocked(myna.CodeB)
		s.wrong[myna.CodeB] = true
	}
}

// forgetLocked wipes and forgets the held secret of a kind.
func (s *Session) forgetLocked(kind myna.Secret) {
	if old := s.secrets[kind]; old != nil {
		old.Wipe()
		delete(s.secrets, kind)
	}
}

// Verify presents a secret of the key's kind to one key (asking for it if
// needed), with the retry guard; used by PIN checks and changes.
func (s *Session) Verify(ctx context.Context, key myna.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.selectLocked(ctx, key.Applet); err != nil {
		return err
	}
	if s.verified[key.FID] {
		return nil // this session's own VERIFY, since the applet was selected
	}
	// A card that answers the tries query 9000 is still sent the secret:
	// Verify checks a value, and a status word alone checks none.
	sec := s.heldFor(key)
	if sec == nil {
		var err error
		if sec, err = s.askFor(ctx, key); err != nil {
			return err
		}
	}
	return s.verifyLocked(ctx, key, sec)
}

// Ask makes sure the session holds a secret for key, prompting for it
// (tries left shown, retry guard applied, value validated) when it holds
// none. Nothing is presented to the card: a caller that has more to ask,
// such as a new PIN, asks it all before the first VERIFY.
func (s *Session) Ask(ctx context.Context, key myna.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if s.heldFor(key) != nil {
		return nil
	}
	_, err := s.askFor(ctx, key)
	return err
}

// Verified lists the keys of applet a to which this session presented a
// secret that the card accepted, since a was last selected (how a file of
// a was opened). A key the card only answered 9000 for when asked its
// tries is not listed: no secret was checked.
func (s *Session) Verified(a myna.Applet) []myna.KeyName {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != a {
		return nil
	}
	var out []myna.KeyName
	for _, k := range myna.AllKeys() {
		if k.Applet == a && s.verified[k.FID] {
			out = append(out, k.Name)
		}
	}
	return out
}
