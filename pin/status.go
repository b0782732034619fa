package pin

import (
	"context"
	"errors"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// KeyStatus is one key's retry counter, read without using a try.
type KeyStatus struct {
	Name      myna.KeyName `json:"name"`
	Applet    string       `json:"applet"`
	Remaining int          `json:"remaining"`
	Max       int          `json:"max"`
	Blocked   bool         `json:"blocked"`
	// MaxAssumed is true when no source gives this key's limit: Max is
	// then myna's assumption, or the most tries seen if more.
	MaxAssumed bool `json:"max_assumed,omitempty"`
	// Verified is true when the card answered the tries query 9000 rather
	// than 63Cx: some cards do once a key is verified in the card session
	// (docs/card.md §3.2). The card did not say how many tries the key
	// has (Remaining is then Max), and the answer is only a status word:
	// the session never takes it as a verification.
	Verified bool `json:"verified,omitempty"`
}

// statusKeys are the keys `pin status` reports, in order (the birth key is
// left out: it is derived, never typed).
func statusKeys() []myna.Key {
	var out []myna.Key
	for _, k := range myna.AllKeys() {
		if k.Secret != myna.BirthKey {
			out = append(out, k)
		}
	}
	return out
}

// Status reads the tries left on every key of every applet the card has,
// with VERIFY without data: no try is used. Applets the card lacks are left
// out (a smartphone token has only JPKI).
func (s *Session) Status(ctx context.Context) ([]KeyStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []KeyStatus
	missing := map[myna.Applet]bool{}
	for _, key := range statusKeys() {
		if missing[key.Applet] {
			continue
		}
		if err := s.selectLocked(ctx, key.Applet); err != nil {
			if errors.Is(err, apdu.ErrFileNotFound) {
				missing[key.Applet] = true
				continue
			}
			return out, err
		}
		left, verified, err := s.triesLocked(ctx, key)
		if errors.Is(err, apdu.ErrFileNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		max := max(key.MaxTries, left)
		st := KeyStatus{Name: key.Name, Applet: key.Applet.Name(), Remaining: left, Max: max, MaxAssumed: key.MaxAssumed, Blocked: !verified && left == 0, Verified: verified}
		if verified {
			st.Remaining = max
		}
		out = append(out, st)
	}
	return out, nil
}
