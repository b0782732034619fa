package pin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"github.com/mynakit/mynakit/myna"
)

// Prompter asks the user for a secret of the given kind.
type Prompter interface {
	Prompt(ctx context.Context, req Request) ([]byte, error)
}

// Request describes what is asked.
type Request struct {
	Kind myna.Secret
	// Remaining is the fewest tries left among the keys this secret is about
	// to be presented to; -1 when unknown.
	Remaining int
	// Purpose is "" for a secret to verify, "new" for a new value being set,
	// "confirm" for the new value typed again.
	Purpose string
	// Retry is true when an earlier value of this kind was wrong.
	Retry bool
}

// Label is a human prompt for the request, Japanese with English.
func (r Request) Label() string {
	var name string
	switch r.Kind {
	case myna.ShortPIN:
		name = "暗証番号 (4-digit PIN)"
	case myna.SignPassword:
		name = "署名用パスワード (signing password, 6-16 characters)"
	case myna.CodeA:
		name = "照合番号A = 個人番号 (12-digit My Number)"
	case myna.CodeB:
		name = "照合番号B (14 digits, or: birth date YYYY-MM-DD, card expiry year, security code)"
	default:
		name = r.Kind.String()
	}
	switch r.Purpose {
	case "new":
		name = "new " + name
	case "confirm":
		name = "new " + name + " again"
	}
	if r.Remaining >= 0 && r.Purpose == "" {
		name += fmt.Sprintf(" [%d tries left]", r.Remaining)
	}
	return name + ": "
}

// PromptFunc adapts a function (the bridge's callback) to Prompter.
type PromptFunc func(ctx context.Context, req Request) ([]byte, error)

// Prompt calls f.
func (f PromptFunc) Prompt(ctx context.Context, req Request) ([]byte, error) { return f(ctx, req) }

// LinePrompter reads one secret per line, in the order asked (--pin-stdin).
// It reads byte by byte, so nothing beyond the line it returns is taken
// from r or left behind in a buffer. It counts what it was asked, which
// tests use.
type LinePrompter struct {
	mu    sync.Mutex
	r     io.Reader
	Asked []Request
	// abandoned is set when a prompt was cancelled while its read was
	// blocked: that read may still take a line, so no later prompt reads.
	abandoned bool
}

// NewLinePrompter reads secrets from r.
func NewLinePrompter(r io.Reader) *LinePrompter { return &LinePrompter{r: r} }

// maxLine bounds a secret line; the longest secret is 14-20 characters.
const maxLine = 256

// Prompt returns the next line without its line ending. A cancelled ctx
// ends the wait at once, even while the read is blocked (Ctrl-C at the
// prompt).
func (p *LinePrompter) Prompt(ctx context.Context, req Request) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Asked = append(p.Asked, req)
	return p.next(ctx, req)
}

// Answer reads the next line as the answer to a question that is not a
// secret (a yes or no), from the same input and with Prompt's guarantees:
// byte by byte, cancellable, and no read after a cancelled one, so an
// abandoned question never takes the secret typed after it. It is not
// counted in Asked. The caller wipes the line.
func (p *LinePrompter) Answer(ctx context.Context) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next(ctx, Request{})
}

func (p *LinePrompter) next(ctx context.Context, req Request) ([]byte, error) {
	if p.abandoned {
		return nil, fmt.Errorf("%w: an earlier prompt was cancelled", ErrNoSecret)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		line []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		l, err := p.readLine(req)
		done <- result{l, err}
	}()
	select {
	case r := <-done:
		return r.line, r.err
	case <-ctx.Done():
		p.abandoned = true
		go func() { Wipe((<-done).line) }()
		return nil, ctx.Err()
	}
}

func (p *LinePrompter) readLine(req Request) ([]byte, error) {
	line := make([]byte, 0, maxLine) // never grows, so no unwiped copy is left
	var c [1]byte
	for {
		n, err := p.r.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				break
			}
			if len(line) == maxLine {
				Wipe(line)
				return nil, &InvalidSecretError{Kind: req.Kind, Reason: "line too long"}
			}
			line = append(line, c[0])
			c[0] = 0
		}
		if errors.Is(err, io.EOF) {
			if len(line) == 0 {
				return nil, fmt.Errorf("%w: standard input ended before the %s", ErrNoSecret, req.Kind)
			}
			break
		}
		if err != nil {
			Wipe(line)
			return nil, err
		}
	}
	out := bytes.TrimRight(line, "\r")
	return out, nil
}

// Format shows what was asked, never what was read.
func (p *LinePrompter) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "LinePrompter{asked: %d}", len(p.Asked))
}

// TerminalPrompter asks on a terminal without echo.
type TerminalPrompter struct {
	In  *os.File
	Out io.Writer
}

// Prompt writes the label and reads a line without echo. A cancelled ctx
// (Ctrl-C, SIGTERM) ends the wait at once and restores the terminal.
func (p TerminalPrompter) Prompt(ctx context.Context, req Request) ([]byte, error) {
	fd := int(p.In.Fd())
	if !term.IsTerminal(fd) {
		return nil, fmt.Errorf("%w: standard input is not a terminal (use --pin-stdin)", ErrNoSecret)
	}
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	fmt.Fprint(p.Out, req.Label())
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(p.Out)
		if r.err != nil {
			return nil, fmt.Errorf("read secret: %w", r.err)
		}
		return r.b, ctx.Err()
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(p.Out)
		go func() { Wipe((<-done).b) }()
		return nil, ctx.Err()
	}
}
