package pin

import (
	"context"
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// KeyStatus is one key's retry counter, read without using a try.
type KeyStatus struct {
	Name      string `json:"name"`
	Applet    string `json:"applet"`
	Remaining int    `json:"remaining"`
	Max       int    `json:"max"`
	Blocked   bool   `json:"blocked"`
	// MaxAssumed is true when no source gives this key's limit: Max is
	// then MaxTries' assumption, or the most tries seen if more.
	MaxAssumed bool `json:"max_assumed,omitempty"`
	// Verified is true when the card answered 9000: the key is verified in
	// this card session, and the card did not say how many tries it has.
	Verified bool `json:"verified,omitempty"`
}

// MaxTries are the retry limits the card reference gives (§3.1). The card
// does not report a maximum. 照合番号A's and 共通AP's limits are not
// established; 10 and 3 are assumptions, and a larger remaining count seen
// on a card wins.
var MaxTries = map[string]int{
	"jpki-auth-pin":      3,
	"jpki-sign-password": 5,
	"text-pin":           3,
	"text-code-a":        10,
	"text-code-b":        10,
	"surface-code-a":     10,
	"surface-code-b":     10,
	"common-pin":         3,
	"juki-pin":           3,
}

// maxAssumed are the keys whose MaxTries entry no source establishes.
var maxAssumed = map[string]bool{"text-code-a": true, "surface-code-a": true, "common-pin": true}

// statusKeys are the keys `pin status` reports, in order.
var statusKeys = []string{"jpki-auth-pin", "jpki-sign-password", "text-pin", "text-code-a", "text-code-b", "surface-code-a", "surface-code-b", "common-pin", "juki-pin"}

// Status reads the tries left on every key of every applet the card has,
// with VERIFY without data: no try is used. Applets the card lacks are left
// out (a smartphone token has only JPKI).
func (s *Session) Status(ctx context.Context) ([]KeyStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []KeyStatus
	missing := map[myna.Applet]bool{}
	for _, name := range statusKeys {
		key, _ := myna.KeyByName(name)
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
		left, verified, err := s.card.VerifyStatus(ctx, apdu.KeySFI(key.FID))
		if errors.Is(err, apdu.ErrFileNotFound) {
			continue
		}
		if err != nil {
			return out, s.check(fmt.Errorf("tries left on %s: %w", key.Name, err))
		}
		max := max(MaxTries[name], left)
		st := KeyStatus{Name: name, Applet: key.Applet.Name(), Remaining: left, Max: max, MaxAssumed: maxAssumed[name], Blocked: !verified && left == 0, Verified: verified}
		if verified {
			st.Remaining = max
		}
		out = append(out, st)
	}
	return out, nil
}
