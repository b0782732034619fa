package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mynakit/mynakit/pin"
)

// PromptConsent is a Consenter that asks through a pin.Prompter (for
// example the terminal the bridge runs in) after writing to Out who asks
// for what, so the holder answers where the bridge runs instead of on a
// consent page. Questions are asked one at a time.
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
	if name, ok := strings.CutPrefix(who, "app:"); ok {
		who = "このパソコンのアプリケーション local application «" + name + "»"
	}
	fmt.Fprintf(&b, "\n== 確認 consent: %s\n   %s\n", who, req.What)
	for _, it := range req.Items {
		fmt.Fprintf(&b, "   - %s\n", it)
	}
	if req.Document != "" {
		fmt.Fprintf(&b, "   文書 document: %s\n", req.Document)
	}
	if req.Digest != "" {
		alg := req.DigestAlg
		if alg == "" {
			alg = "SHA-256"
		}
		fmt.Fprintf(&b, "   %s\n   %s %s\n", req.Note, alg, req.Digest)
	}
	if req.Reader != "" {
		fmt.Fprintf(&b, "   リーダー reader: %s\n", req.Reader)
	}
	return b.String()
}

// LineApprover answers pairings from lines of in ("y" or "yes" allows),
// asking on out. Give it the LinePrompter that reads the secrets too, when
// they come from the same input: it then never takes a line meant as a
// secret, even after a question was abandoned.
func LineApprover(in *pin.LinePrompter, out io.Writer) func(ctx context.Context, req ConsentRequest) (bool, error) {
	return func(ctx context.Context, req ConsentRequest) (bool, error) {
		fmt.Fprint(out, "許可しますか allow? [y/N]: ")
		line, err := in.Answer(ctx)
		defer pin.Wipe(line)
		if err != nil {
			return false, err
		}
		a := strings.ToLower(string(bytes.TrimSpace(line)))
		return a == "y" || a == "yes", nil
	}
}
