package pin

import (
	"context"
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// Holding says which value a key holds after a change attempt.
type Holding string

const (
	HoldsNew     Holding = "new"
	HoldsOld     Holding = "old"
	HoldsUnknown Holding = "unknown" // the card went away during the command
)

// ChangeResult is one key's outcome.
type ChangeResult struct {
	Key   myna.Key
	Holds Holding
	// Err says why the key still holds the old value (nil when changed, or
	// when the change was not attempted because an earlier key failed).
	Err error
	// Attempted is false for keys skipped after an earlier failure.
	Attempted bool
}

// Change sets every named key to newValue, one after the other, verifying
// each with the old secret first (asked once, through the prompter).
// newValue is validated for the keys' kind before anything is sent, and the
// tries left on every key are read (no try used) before any is changed, so
// the retry guard or a blocked key refuses the whole change rather than
// half of it. It stops at the first refusal, so the report says exactly
// which keys hold which value; a key the card does not have is left out.
// After a partial change the session forgets the secret, which no longer
// fits every key.
func (s *Session) Change(ctx context.Context, names []myna.KeyName, newValue []byte) ([]ChangeResult, error) {
	var keys []myna.Key
	for _, n := range names {
		k, ok := myna.KeyByName(n)
		if !ok || k.Change == 0 {
			return nil, fmt.Errorf("key %q cannot be changed", n)
		}
		if len(keys) > 0 && k.Secret != keys[0].Secret {
			return nil, fmt.Errorf("keys of different kinds cannot share one new value")
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	kind := keys[0].Secret
	nv, err := Normalize(kind, newValue)
	if err != nil {
		return nil, err
	}
	defer Wipe(nv)

	present, guardErr, err := s.changeable(ctx, keys)
	if err != nil {
		return nil, err
	}
	results := make([]ChangeResult, len(present))
	for i, k := range present {
		results[i] = ChangeResult{Key: k, Holds: HoldsOld}
	}
	if guardErr != nil {
		for i, k := range present {
			if k == guardErr.key {
				results[i].Err = guardErr.err
			}
		}
		return results, fmt.Errorf("%s: %w; nothing was changed", guardErr.key.Name, guardErr.err)
	}
	changed := 0
	fail := func(i int, err error) ([]ChangeResult, error) {
		results[i].Err = err
		if changed > 0 || results[i].Holds == HoldsUnknown {
			s.mu.Lock()
			s.forgetLocked(kind)
			s.mu.Unlock()
		}
		return results, fmt.Errorf("%s: %w", present[i].Name, err)
	}
	for i, k := range present {
		results[i].Attempted = true
		if err := s.Verify(ctx, k); err != nil {
			return fail(i, err)
		}
		if err := s.changeOne(ctx, k, nv); err != nil {
			if !cardAnswered(err) {
				// Lost on the way: the card may or may not have changed it.
				results[i].Holds = HoldsUnknown
			}
			return fail(i, err)
		}
		results[i].Holds = HoldsNew
		changed++
	}
	// The session now holds the new value.
	s.mu.Lock()
	s.forgetLocked(kind)
	s.secrets[kind] = &Secret{b: append([]byte(nil), nv...)}
	s.mu.Unlock()
	return results, nil
}

type keyErr struct {
	key myna.Key
	err error
}

// changeable returns the keys the card has, and the first of them that the
// retry guard (or a block) keeps from being verified, reading tries left
// without using any.
func (s *Session) changeable(ctx context.Context, keys []myna.Key) ([]myna.Key, *keyErr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var present []myna.Key
	var refused *keyErr
	for _, k := range keys {
		if err := s.selectLocked(ctx, k.Applet); errors.Is(err, apdu.ErrFileNotFound) {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		present = append(present, k)
		if refused != nil || s.verified[k.FID] {
			continue
		}
		left, verified, err := s.triesLocked(ctx, k)
		if err != nil {
			return nil, nil, err
		}
		if !verified {
			if err := s.guardCheck(k, left); err != nil {
				refused = &keyErr{k, err}
			}
		}
	}
	return present, refused, nil
}

// cardAnswered reports whether err is the card's own answer (a status
// word), as opposed to a command lost on the way.
func cardAnswered(err error) bool {
	var se *apdu.StatusError
	var wp *apdu.WrongPINError
	return errors.As(err, &se) || errors.As(err, &wp)
}

func (s *Session) changeOne(ctx context.Context, k myna.Key, nv []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.selectLocked(ctx, k.Applet); err != nil {
		return err
	}
	if err := s.card.SelectEF(ctx, k.FID); err != nil {
		return s.check(err)
	}
	var err error
	if k.Change == 0x32 {
		err = s.card.ChangeKey(ctx, apdu.KeyCurrent, nv)
	} else {
		err = s.card.ChangeReferenceData(ctx, apdu.KeyCurrent, nv)
	}
	return s.check(err)
}
