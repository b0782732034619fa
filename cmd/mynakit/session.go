package main

import (
	"context"
	"os"
	"time"

	"github.com/mynakit/mynakit/pin"
)

// idleWipe is how long the CLI keeps secrets without use.
const idleWipe = 5 * time.Minute

// prompter builds the prompter the global flags ask for: lines from stdin
// with --pin-stdin, otherwise the terminal without echo.
func (a *app) prompter() pin.Prompter {
	if a.linePrompter != nil {
		return a.linePrompter
	}
	if a.pinStdin {
		a.linePrompter = pin.NewLinePrompter(a.in)
		return a.linePrompter
	}
	in, ok := a.in.(*os.File)
	if !ok {
		in = os.Stdin
	}
	return pin.TerminalPrompter{In: in, Out: a.err}
}

// newSession starts the PIN session for an open card.
func (a *app) newSession(h *cardHandle) *pin.Session {
	return pin.NewSession(h.Card, a.prompter(), pin.WithAllowLastTry(a.allowLastTry), pin.WithIdleWipe(idleWipe))
}

// withCard opens the card the flags name and its PIN session, runs fn
// inside one transaction, and closes both. Any failure is a card or usage
// error (exit 3).
func (a *app) withCard(ctx context.Context, fn func(h *cardHandle, sess *pin.Session) error) error {
	h, err := a.openCard(ctx)
	if err != nil {
		return &exitError{code: exitUsageOrCard, err: err}
	}
	defer h.Close()
	sess := a.newSession(h)
	defer sess.Close()
	if err := h.Card.WithTransaction(ctx, func() error { return fn(h, sess) }); err != nil {
		return &exitError{code: exitUsageOrCard, err: err}
	}
	return nil
}
