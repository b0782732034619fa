package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mynakit/mynakit/pin"
)

// PromptConsent is a Consenter that asks through a pin.Prompter — the
// bridge's terminal with mynakit serve --prompt terminal — after writing to
// Out who asks for what. Questions are asked one at a time.
type PromptConsent struct {
	Prompter pin.Prompter
	// Approve answers pairings; nil declines every pairing.
	Approve func(ctx context.Context, req ConsentRequest) (bool, error)
	Out     io.Writer

	mu sync.Mutex
}

// Secret writes the request and asks the prompter.
func (p *PromptConsent) Secret(ctx context.Context, req ConsentRequest) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Out != nil {
		fmt.Fprint(p.Out, Describe(req))
	}
	return p.Prompter.Prompt(ctx, req.Secret)
}

// Pair writes the request and asks Approve.
func (p *PromptConsent) Pair(ctx context.Context, req ConsentRequest) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Out != nil {
		fmt.Fprint(p.Out, Describe(req))
	}
	if p.Approve == nil {
		return false, nil
	}
	return p.Approve(ctx, req)
}

// Describe puts a consent request in words, Japanese with English.
func Describe(req ConsentRequest) string {
	var b strings.Builder
	who := req.Origin
	if who == "" {
		who = "このパソコンのアプリケーション a local application"
	}
	fmt.Fprintf(&b, "\n== 確認 consent: %s\n   %s\n", who, req.What)
	for _, it := range req.Items {
		fmt.Fprintf(&b, "   - %s\n", it)
	}
	if req.Digest != "" {
		fmt.Fprintf(&b, "   %s\n   SHA-256 %s\n", req.Note, req.Digest)
	}
	if req.Reader != "" {
		fmt.Fprintf(&b, "   リーダー reader: %s\n", req.Reader)
	}
	return b.String()
}

// LineApprover answers pairings from lines of in ("y" or "yes" allows),
// read a byte at a time so nothing beyond the line is taken from in.
func LineApprover(in io.Reader, out io.Writer) func(ctx context.Context, req ConsentRequest) (bool, error) {
	return func(ctx context.Context, req ConsentRequest) (bool, error) {
		fmt.Fprint(out, "許可しますか allow? [y/N]: ")
		type res struct {
			line string
			err  error
		}
		done := make(chan res, 1)
		go func() {
			var line []byte
			var c [1]byte
			for len(line) < 16 {
				n, err := in.Read(c[:])
				if n == 1 {
					if c[0] == '\n' {
						break
					}
					line = append(line, c[0])
				}
				if err != nil {
					if errors.Is(err, io.EOF) && len(line) > 0 {
						break
					}
					done <- res{err: err}
					return
				}
			}
			done <- res{line: string(line)}
		}()
		select {
		case r := <-done:
			if r.err != nil {
				return false, r.err
			}
			a := strings.ToLower(strings.TrimSpace(r.line))
			return a == "y" || a == "yes", nil
		case <-ctx.Done():
			return false, context.Cause(ctx)
		}
	}
}
