package main

import (
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
