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

// ShortPINKeys are the 4-digit PINs `pin change short` keeps equal.
var ShortPINKeys = []string{"jpki-auth-pin", "text-pin", "common-pin", "juki-pin"}

// Change sets every named key to newValue, one after the other, verifying
// each with the old secret first (asked once, through the prompter). It
// stops at the first refusal, so the report says exactly which keys hold
// which value; a key the card does not have is left out. newValue is
// validated for the keys' kind before anything is sent.
func (s *Session) Change(ctx context.Context, names []string, newValue []byte) ([]ChangeResult, error) {
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
	nv, err := Normalize(keys[0].Secret, newValue)
	if err != nil {
		return nil, err
	}
	defer Wipe(nv)

	// Which of the keys does this card have?
	var present []myna.Key
	for _, k := range keys {
		if err := s.Select(ctx, k.Applet); errors.Is(err, apdu.ErrFileNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		present = append(present, k)
	}
	results := make([]ChangeResult, len(present))
	for i, k := range present {
		results[i] = ChangeResult{Key: k, Holds: HoldsOld}
	}
	for i, k := range present {
		results[i].Attempted = true
		if err := s.Verify(ctx, k); err != nil {
			results[i].Err = err
			return results, fmt.Errorf("%s: %w", k.Name, err)
		}
		err := s.changeOne(ctx, k, nv)
		if err != nil {
			results[i].Err = err
			if errors.Is(err, apdu.ErrCardRemoved) {
				results[i].Holds = HoldsUnknown
			}
			return results, fmt.Errorf("%s: %w", k.Name, err)
		}
		results[i].Holds = HoldsNew
	}
	// The session now holds the new value.
	s.mu.Lock()
	if old := s.secrets[keys[0].Secret]; old != nil {
		old.Wipe()
	}
	s.secrets[keys[0].Secret] = &Secret{b: append([]byte(nil), nv...)}
	s.mu.Unlock()
	return results, nil
}

func (s *Session) changeOne(ctx context.Context, k myna.Key, nv []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
