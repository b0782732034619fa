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
	// codeBFirst: ask 照合番号B rather than the short PIN where either
	// would open a file.
	codeBFirst bool
	timer      *time.Timer
	closed     bool

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

// WithCodeBFirst makes the session ask for 照合番号B rather than the short
// PIN (from which it derives 照合番号A and the birth key through the text
// applet) when a file that 照合番号B opens needs a secret the session does
// not hold: the card face, the text applet's 基本4情報, the birth key. For
// callers such as a counter, where the holder shows the card but types no
// PIN.
func WithCodeBFirst() Option { return func(s *Session) { s.codeBFirst = true } }

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
	for k := range s.secrets {
		s.forgetLocked(k)
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
	s.forgetLocked(kind)
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
			if !fallBack(err) {
				return fmt.Errorf("open %s EF %04X: %w", a.JapaneseName(), fid, err)
			}
			note(err)
			continue
		}
		if sec == nil {
			continue
		}
		err = s.verifyLocked(ctx, key, sec)
		if err == nil || !fallBack(err) {
			return err
		}
		note(err)
	}
	// 2. Ask, in the applet's order of preference.
	if s.codeBFirst {
		openers = codeBFirst(a, openers)
	}
	for _, fidKey := range openers {
		key, _ := myna.KeyAt(a, fidKey)
		verified, blocked := s.keyState(ctx, key)
		if verified {
			return nil
		}
		if blocked {
			continue
		}
		sec, err := s.secretFor(ctx, key, true)
		if err != nil {
			if fallBack(err) {
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

// codeBFirst moves the 照合番号B key to the front of a list of openers.
func codeBFirst(a myna.Applet, openers []uint16) []uint16 {
	out := make([]uint16, 0, len(openers))
	for _, fid := range openers {
		if k, _ := myna.KeyAt(a, fid); k.Secret == myna.CodeB {
			out = append([]uint16{fid}, out...)
		} else {
			out = append(out, fid)
		}
	}
	return out
}

// keyState reads, without using a try, whether key is already verified
// (some cards answer 9000; then nothing need be asked) or blocked (no point
// asking for its secret). Errors count as neither.
func (s *Session) keyState(ctx context.Context, key myna.Key) (verified, blocked bool) {
	if s.selectLocked(ctx, key.Applet) != nil {
		return false, false
	}
	left, ok, err := s.card.VerifyStatus(ctx, apdu.KeySFI(key.FID))
	if err != nil {
		return false, false
	}
	if ok {
		s.verified[key.FID] = true
	}
	return ok, !ok && left == 0
}

// secretFor returns the secret to present to key: held, derived, or (when
// ask) prompted. nil, nil means none is available without asking.
func (s *Session) secretFor(ctx context.Context, key myna.Key, ask bool) (*Secret, error) {
	if sec := s.secrets[key.Secret]; sec != nil {
		return sec, nil
	}
	switch key.Secret {
	case myna.BirthKey:
		// The first six digits of 照合番号B are the birth key (§3.6).
		if b := s.secrets[myna.CodeB]; b != nil {
			s.secrets[myna.BirthKey] = &Secret{b: append([]byte(nil), b.b[:6]...)}
			return s.secrets[myna.BirthKey], nil
		}
		if !ask && s.secrets[myna.ShortPIN] == nil {
			return nil, nil
		}
		// The birth date is in the text applet's 基本4情報, which the short
		// PIN opens; failing that, ask for 照合番号B.
		var textErr error
		if !s.codeBFirst || !ask {
			if textErr = s.deriveFromText(ctx, key, myna.TextAttributes); textErr == nil {
				return s.secrets[myna.BirthKey], nil
			}
			if !ask || !fallBack(textErr) {
				return nil, textErr
			}
		}
		asB := key
		asB.Secret = myna.CodeB
		b, err := s.ask(ctx, asB)
		if err != nil {
			return nil, errors.Join(textErr, err)
		}
		s.secrets[myna.BirthKey] = &Secret{b: append([]byte(nil), b.b[:6]...)}
		return s.secrets[myna.BirthKey], nil
	case myna.CodeA:
		// The My Number is readable in the text applet with the short PIN.
		if key.Applet == myna.Text {
			break
		}
		if !ask && s.secrets[myna.ShortPIN] == nil {
			return nil, nil
		}
		if err := s.deriveFromText(ctx, key, myna.TextMyNumber); err != nil {
			return nil, err
		}
		return s.secrets[myna.CodeA], nil
	}
	if !ask {
		return nil, nil
	}
	return s.ask(ctx, key)
}

// fallBack reports whether another secret may be tried after err: the
// secret could not be had or used (none given, key blocked or guarded, a
// derivation through a missing or unexpected file). A wrong secret is not
// such an error: it ends the attempt, so the user is not asked again at
// once.
func fallBack(err error) bool {
	if errors.Is(err, ErrWrongSecret) {
		return false
	}
	return errors.Is(err, ErrNoSecret) || errors.Is(err, ErrKeyBlocked) || errors.Is(err, ErrWouldBlock) ||
		errors.Is(err, apdu.ErrFileNotFound) || errors.Is(err, apdu.ErrMalformed)
}

// deriveFromText reads text applet EF fid with the short PIN (held, or
// asked) and keeps what it yields: 照合番号A from the 個人番号 EF 0001, the
// birth key from the birth date in the 基本4情報 EF 0002. It then reselects
// the applet of the key that needed it.
func (s *Session) deriveFromText(ctx context.Context, key myna.Key, fid uint16) error {
	if err := s.selectLocked(ctx, myna.Text); err != nil {
		return err
	}
	if !s.verified[myna.TextPIN] {
		textPIN, _ := myna.KeyAt(myna.Text, myna.TextPIN)
		sec := s.secrets[myna.ShortPIN]
		if sec == nil {
			var err error
			if sec, err = s.ask(ctx, textPIN); err != nil {
				return err
			}
		}
		if err := s.verifyLocked(ctx, textPIN, sec); err != nil {
			return err
		}
	}
	data, err := s.card.ReadObject(ctx, fid)
	if err != nil {
		return s.check(fmt.Errorf("read 券面事項入力補助AP EF %04X: %w", fid, err))
	}
	defer Wipe(data)
	if fid == myna.TextMyNumber {
		err = s.keepMyNumber(data)
	} else {
		err = s.keepBirthKey(data)
	}
	if err != nil {
		return fmt.Errorf("read 券面事項入力補助AP EF %04X: %w", fid, err)
	}
	// Back to the applet that needed it.
	return s.selectLocked(ctx, key.Applet)
}

// keepMyNumber keeps the 12 digits of EF 0001 (FF 10 0C <digits>) as 照合番号A.
func (s *Session) keepMyNumber(data []byte) error {
	obj, _, err := apdu.ParseTLV(data)
	if err != nil || obj.Tag != 0xFF10 || len(obj.Value) != 12 {
		return fmt.Errorf("unexpected 個人番号 layout: %w", apdu.ErrMalformed)
	}
	v, err := Normalize(myna.CodeA, obj.Value)
	if err != nil {
		return err
	}
	s.secrets[myna.CodeA] = &Secret{b: v}
	return nil
}

// keepBirthKey turns the birth date of EF 0002 (FF 20 { ... DF24 YYYYMMDD
// ... }) into the era-year birth key.
func (s *Session) keepBirthKey(data []byte) error {
	bad := fmt.Errorf("unexpected 基本4情報 layout: %w", apdu.ErrMalformed)
	obj, _, err := apdu.ParseTLV(data)
	if err != nil || obj.Tag != 0xFF20 {
		return bad
	}
	kids, err := obj.Children()
	if err != nil {
		return bad
	}
	date, ok := apdu.FindTLV(kids, 0xDF24)
	if !ok || !myna.Digits(string(date.Value), 8) {
		return bad
	}
	birth, err := time.Parse("20060102", string(date.Value))
	if err != nil {
		return bad
	}
	yymmdd, err := myna.EraYYMMDD(birth)
	if err != nil {
		return bad
	}
	s.secrets[myna.BirthKey] = &Secret{b: []byte(yymmdd)}
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

// Ask makes sure the session holds a secret for key, prompting for it
// (tries left shown, retry guard applied, value validated) when it holds
// none. Nothing is presented to the card: a caller that has more to ask,
// such as a new PIN, asks it all before the first VERIFY.
func (s *Session) Ask(ctx context.Context, key myna.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	if s.secrets[key.Secret] != nil {
		return nil
	}
	_, err := s.ask(ctx, key)
	return err
}
