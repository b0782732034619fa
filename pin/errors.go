package pin

import (
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/myna"
)

// Sentinels for errors.Is.
var (
	// ErrWouldBlock: a wrong secret would block the key, and the caller did
	// not allow the last try. Nothing was sent.
	ErrWouldBlock = errors.New("refused: a wrong secret would block the key")
	// ErrWrongSecret: the card rejected the secret; a try was used.
	ErrWrongSecret = errors.New("wrong secret")
	// ErrKeyBlocked: the key has no tries left; only the municipality can
	// unblock it.
	ErrKeyBlocked = errors.New("key is blocked")
	// ErrInvalidSecret: the secret failed local validation; nothing was sent.
	ErrInvalidSecret = errors.New("invalid secret")
	// ErrNoSecret: the session needs a secret and has no way to ask for it.
	ErrNoSecret = errors.New("secret needed but no prompt available")
	// ErrSessionClosed: the session was closed or its card was removed.
	ErrSessionClosed = errors.New("PIN session closed")
)

// WouldBlockError is returned instead of a VERIFY that could block Key.
type WouldBlockError struct {
	Key       myna.Key
	Remaining int
}

func (e *WouldBlockError) Error() string {
	return fmt.Sprintf("%s: %d try left; a wrong %s would block it (allow the last try explicitly to go ahead)", e.Key.Name, e.Remaining, e.Key.Secret)
}

// Is matches ErrWouldBlock.
func (e *WouldBlockError) Is(t error) bool { return t == ErrWouldBlock }

// WrongSecretError is a rejected VERIFY.
type WrongSecretError struct {
	Key       myna.Key
	Remaining int
}

func (e *WrongSecretError) Error() string {
	if e.Remaining == 0 {
		return fmt.Sprintf("%s: wrong %s; the key is now blocked", e.Key.Name, e.Key.Secret)
	}
	return fmt.Sprintf("%s: wrong %s; %d tries left", e.Key.Name, e.Key.Secret, e.Remaining)
}

// Is matches ErrWrongSecret, and ErrKeyBlocked when no try is left.
func (e *WrongSecretError) Is(t error) bool {
	return t == ErrWrongSecret || (e.Remaining == 0 && t == ErrKeyBlocked)
}

// BlockedError names a blocked key.
type BlockedError struct{ Key myna.Key }

func (e *BlockedError) Error() string { return fmt.Sprintf("%s is blocked", e.Key.Name) }

// Is matches ErrKeyBlocked.
func (e *BlockedError) Is(t error) bool { return t == ErrKeyBlocked }

// InvalidSecretError is a secret rejected before it reached the card. It
// says what is wrong, never the value.
type InvalidSecretError struct {
	Kind   myna.Secret
	Reason string
}

func (e *InvalidSecretError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Kind, e.Reason) }

// Is matches ErrInvalidSecret.
func (e *InvalidSecretError) Is(t error) bool { return t == ErrInvalidSecret }
