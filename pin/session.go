// Package pin keeps one PIN session per inserted card: it asks the user for
// each kind of secret at most once, verifies the applets that need it, never
// spends a key's last try unless told to, and wipes secrets when done.
//
// CONTRACT STUB: the signatures below are what jpki, cardap and the CLI code
// against. The pin package owner replaces the bodies and adds the rest.
package pin

import (
	"context"
	"errors"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// Session is one card's PIN session.
type Session struct {
	card *apdu.Card
}

// Prompter asks the user for a secret of the given kind.
type Prompter interface {
	Prompt(ctx context.Context, req Request) ([]byte, error)
}

// Request describes what is asked: the kind and how many tries the keys it
// would open have left.
type Request struct {
	Kind      myna.Secret
	Remaining int
}

// Option configures a Session.
type Option func(*Session)

// NewSession starts a session on card; prompts go to p (nil: never prompt).
func NewSession(card *apdu.Card, p Prompter, opts ...Option) *Session {
	s := &Session{card: card}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Card is the card the session owns.
func (s *Session) Card() *apdu.Card { return s.card }

// Select makes applet a current, unless it already is.
func (s *Session) Select(ctx context.Context, a myna.Applet) error {
	return errors.New("pin: not implemented")
}

// Open selects applet a and verifies whichever key opens EF fid, asking for
// the secret if the session does not hold it. Free files need nothing.
func (s *Session) Open(ctx context.Context, a myna.Applet, fid uint16) error {
	return errors.New("pin: not implemented")
}

// Learn gives the session a secret it derived from card data (the My Number
// read from the text applet is 照合番号A). The session copies value.
func (s *Session) Learn(kind myna.Secret, value []byte) {}

// Close wipes every secret.
func (s *Session) Close() error { return nil }
