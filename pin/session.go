// Package pin keeps one PIN session per inserted card: it asks the user for
// each kind of secret at most once, verifies every applet that needs it,
// never spends a key's last try unless told to, and wipes secrets when done.
//
// The card has one key EF per secret per applet (card reference §3.1), and
// selecting an applet clears what was verified (§3.7). The session tracks
// the current applet and what is verified in it, re-verifies with the
// secrets it holds after a reselect, and derives what it can: the My Number
// read from the text applet with the short PIN is 照合番号A for the surface
// applet, and the first six digits of 照合番号B are the birth key.
package pin

import (
	"context"
	"errors"
	"fmt"
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
	guard    int
	allowAll bool
	idle     time.Duration
	timer    *time.Timer
	closed   bool

	secrets  map[myna.Secret]*Secret
	wrong    map[myna.Secret]bool // a value of this kind was rejected
	current  myna.Applet          // 0: unknown
	verified map[uint16]bool      // keys verified in the current applet
}

// Option configures a Session.
type Option func(*Session)

// WithRetryGuard refuses a VERIFY when the key has this many tries left or
// fewer (default 1: the last try is never spent without consent).
func WithRetryGuard(n int) Option { return func(s *Session) { s.guard = n } }

// WithAllowLastTry lets VERIFY go ahead whatever the tries left
// (--allow-last-try).
func WithAllowLastTry(allow bool) Option { return func(s *Session) { s.allowAll = allow } }

// WithIdleWipe wipes the held secrets after d without use.
func WithIdleWipe(d time.Duration) Option { return func(s *Session) { s.idle = d } }

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
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Card is the card the session owns. Callers read files through it after
// Open; they must select applets only through the session.
func (s *Session) Card() *apdu.Card { return s.card }

// Close wipes every secret and ends the session.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wipeLocked()
	s.closed = true
	return nil
}

// Wipe forgets every secret now (the session stays usable and will ask again).
func (s *Session) Wipe() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wipeLocked()
}

func (s *Session) wipeLocked() {
	for k, v := range s.secrets {
		v.Wipe()
		delete(s.secrets, k)
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
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

// Learn gives the session a secret it derived from card data (the My Number
// read from the text applet is 照合番号A). The session copies value; an
// invalid value is ignored.
func (s *Session) Learn(kind myna.Secret, value []byte) {
	v, err := Normalize(kind, value)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.secrets[kind]; old != nil {
		old.Wipe()
	}
	s.secrets[kind] = &Secret{b: v}
	s.touch()
}

// Holds reports whether the session holds a secret of the kind.
func (s *Session) Holds(kind myna.Secret) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets[kind] != nil
}

// check turns card removal into a dead session.
func (s *Session) check(err error) error {
	if errors.Is(err, apdu.ErrCardRemoved) || errors.Is(err, apdu.ErrReaderGone) {
		s.wipeLocked()
		s.closed = true
		s.current = 0
	}
	return err
}

// Select makes applet a current, unless it already is. Selecting clears
// what the card had verified.
func (s *Session) Select(ctx context.Context, a myna.Applet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selectLocked(ctx, a)
}

func (s *Session) selectLocked(ctx context.Context, a myna.Applet) error {
	if s.closed {
		return ErrSessionClosed
	}
	if s.current == a {
		return nil
	}
	s.current = 0
	s.verified = map[uint16]bool{}
	if err := s.card.SelectAID(ctx, a.AID()); err != nil {
		return s.check(fmt.Errorf("select %s: %w", a.JapaneseName(), err))
	}
	s.current = a
	return nil
}

// SelectMF returns the card to its power-on state by selecting the
// GlobalPlatform issuer security domain (card reference §1.2), where the
// MF-level GET DATA objects answer. Verifications are lost, as on any
// applet selection.
func (s *Session) SelectMF(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	s.current = 0
	s.verified = map[uint16]bool{}
	if err := s.card.SelectAID(ctx, myna.ISDAID); err != nil {
		return s.check(fmt.Errorf("select the issuer security domain: %w", err))
	}
	return nil
}

// Reset warm-resets the card (when the transport can) and forgets what the
// card had verified; held secrets stay.
func (s *Session) Reset(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = 0
	s.verified = map[uint16]bool{}
	if r, ok := s.card.Transport().(apdu.Resetter); ok {
		return s.check(r.Reset(ctx))
	}
	return nil
}

// Open selects applet a and verifies whichever key opens EF fid (a data
// file or a private key), asking for the secret if the session does not hold
// it or cannot derive it. Free files need nothing.
func (s *Session) Open(ctx context.Context, a myna.Applet, fid uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	note := func(err error) { notes = append(notes, err) }
	// 1. Secrets held or derivable without asking.
	for _, fidKey := range openers {
		key, _ := myna.KeyAt(a, fidKey)
		sec, err := s.secretFor(ctx, key, false)
		if err != nil {
			note(err)
			continue
		}
		if sec == nil {
			continue
		}
		err = s.verifyLocked(ctx, key, sec)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrKeyBlocked) {
			return err
		}
		note(err)
	}
	// 2. Ask, in the applet's order of preference.
	for _, fidKey := range openers {
		key, _ := myna.KeyAt(a, fidKey)
		if s.blockedOrRefused(ctx, key) {
			continue
		}
		sec, err := s.secretFor(ctx, key, true)
		if err != nil {
			if errors.Is(err, ErrNoSecret) || errors.Is(err, ErrKeyBlocked) || errors.Is(err, ErrWouldBlock) {
				note(err)
				continue
			}
			// Say why the preferred key was not used, too.
			return fmt.Errorf("open %s EF %04X: %w", a.JapaneseName(), fid, errors.Join(append(notes, err)...))
		}
		if sec == nil {
			continue
		}
		err = s.verifyLocked(ctx, key, sec)
		if err == nil || !errors.Is(err, ErrKeyBlocked) {
			return err
		}
		note(err)
	}
	if len(notes) == 0 {
		notes = append(notes, fmt.Errorf("%w for %s EF %04X", ErrNoSecret, a.Name(), fid))
	}
	return fmt.Errorf("open %s EF %04X: %w", a.JapaneseName(), fid, errors.Join(notes...))
}

// blockedOrRefused reports whether a key is blocked (no point asking for
// its secret). Errors count as "not known to be blocked".
func (s *Session) blockedOrRefused(ctx context.Context, key myna.Key) bool {
	if s.selectLocked(ctx, key.Applet) != nil {
		return false
	}
	left, ok, err := s.card.VerifyStatus(ctx, apdu.KeySFI(key.FID))
	return err == nil && !ok && left == 0
}

// secretFor returns the secret to present to key: held, derived, or (when
// ask) prompted. nil, nil means none is available without asking.
func (s *Session) secretFor(ctx context.Context, key myna.Key, ask bool) (*Secret, error) {
	if sec := s.secrets[key.Secret]; sec != nil {
		return sec, nil
	}
	switch key.Secret {
	case myna.BirthKey:
		if b := s.secrets[myna.CodeB]; b != nil {
			return &Secret{b: append([]byte(nil), b.b[:6]...)}, nil
		}
		return nil, nil
	case myna.CodeA:
		// The My Number is readable in the text applet with the short PIN.
		if key.Applet == myna.Text {
			break
		}
		if s.secrets[myna.ShortPIN] == nil && !ask {
			return nil, nil
		}
		if err := s.deriveCodeA(ctx); err != nil {
			return nil, err
		}
		// Back to the applet that needed it.
		if err := s.selectLocked(ctx, key.Applet); err != nil {
			return nil, err
		}
		return s.secrets[myna.CodeA], nil
	}
	if !ask {
		return nil, nil
	}
	return s.ask(ctx, key)
}

// deriveCodeA reads the My Number from the text applet (short PIN) and
// keeps it as 照合番号A.
func (s *Session) deriveCodeA(ctx context.Context) error {
	if err := s.selectLocked(ctx, myna.Text); err != nil {
		return err
	}
	if !s.verified[myna.TextPIN] {
		key, _ := myna.KeyAt(myna.Text, myna.TextPIN)
		sec := s.secrets[myna.ShortPIN]
		if sec == nil {
			var err error
			if sec, err = s.ask(ctx, key); err != nil {
				return err
			}
		}
		if err := s.verifyLocked(ctx, key, sec); err != nil {
			return err
		}
	}
	data, err := s.card.ReadObject(ctx, myna.TextMyNumber)
	if err != nil {
		return s.check(fmt.Errorf("read My Number: %w", err))
	}
	defer Wipe(data)
	obj, _, err := apdu.ParseTLV(data)
	if err != nil || len(obj.Value) != 12 {
		return fmt.Errorf("read My Number: unexpected file layout: %w", apdu.ErrMalformed)
	}
	v, err := Normalize(myna.CodeA, obj.Value)
	if err != nil {
		return fmt.Errorf("read My Number: %w", err)
	}
	s.secrets[myna.CodeA] = &Secret{b: v}
	return nil
}

// ask prompts for the secret key needs, after checking locally that the key
// can take a try, and validates the answer before anything is sent.
func (s *Session) ask(ctx context.Context, key myna.Key) (*Secret, error) {
	if s.prompter == nil {
		return nil, fmt.Errorf("%w: %s for %s", ErrNoSecret, key.Secret, key.Name)
	}
	// A derivation may have left another applet selected.
	if err := s.selectLocked(ctx, key.Applet); err != nil {
		return nil, err
	}
	left, verified, err := s.card.VerifyStatus(ctx, apdu.KeySFI(key.FID))
	if err != nil {
		return nil, s.check(fmt.Errorf("tries left on %s: %w", key.Name, err))
	}
	if verified {
		left = -1
	} else if err := s.guardCheck(key, left); err != nil {
		return nil, err
	}
	raw, err := s.prompter.Prompt(ctx, Request{Kind: key.Secret, Remaining: left, Retry: s.wrong[key.Secret]})
	if err != nil {
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

// verifyLocked presents sec to key in the current applet: it reads the
// tries left first (no try used), applies the retry guard, then VERIFYs.
// A rejected secret is dropped from the session.
func (s *Session) verifyLocked(ctx context.Context, key myna.Key, sec *Secret) error {
	if s.current != key.Applet {
		if err := s.selectLocked(ctx, key.Applet); err != nil {
			return err
		}
	}
	p2 := apdu.KeySFI(key.FID)
	left, verified, err := s.card.VerifyStatus(ctx, p2)
	if err != nil {
		return s.check(fmt.Errorf("tries left on %s: %w", key.Name, err))
	}
	if verified {
		s.verified[key.FID] = true
		return nil
	}
	if err := s.guardCheck(key, left); err != nil {
		return err
	}
	err = s.card.Verify(ctx, p2, sec.b)
	var wp *apdu.WrongPINError
	switch {
	case err == nil:
		s.verified[key.FID] = true
		s.wrong[key.Secret] = false
		return nil
	case errors.As(err, &wp):
		s.dropLocked(key.Secret)
		return &WrongSecretError{Key: key, Remaining: wp.Remaining}
	case errors.Is(err, apdu.ErrBlocked):
		return &BlockedError{Key: key}
	}
	return s.check(fmt.Errorf("verify %s: %w", key.Name, err))
}

// dropLocked forgets a rejected secret, and whatever was derived from it.
func (s *Session) dropLocked(kind myna.Secret) {
	if old := s.secrets[kind]; old != nil {
		old.Wipe()
		delete(s.secrets, kind)
	}
	s.wrong[kind] = true
}

// Verify presents a secret of the key's kind to one key (asking for it if
// needed), with the retry guard; used by PIN changes.
func (s *Session) Verify(ctx context.Context, key myna.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.selectLocked(ctx, key.Applet); err != nil {
		return err
	}
	if s.verified[key.FID] {
		return nil
	}
	sec := s.secrets[key.Secret]
	if sec == nil {
		var err error
		if sec, err = s.ask(ctx, key); err != nil {
			return err
		}
	}
	return s.verifyLocked(ctx, key, sec)
}
