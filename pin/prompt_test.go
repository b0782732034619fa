package pin

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/myna"
)

// An answer abandoned while its read is blocked leaves the prompter
// refusing to read: the line typed next (a PIN) is never taken as the
// answer to an old question, nor read by a later prompt behind it.
func TestAnswerAbandonedStopsLaterReads(t *testing.T) {
	r, w := io.Pipe()
	reading := make(chan struct{}, 1)
	p := NewLinePrompter(signalReader{r, reading})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := p.Answer(ctx); done <- err }()
	<-reading // the answer's read is blocked
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned answer: %v", err)
	}
	go func() { _, _ = w.Write([]byte("1234\n")) }()
	if _, err := p.Prompt(context.Background(), Request{Kind: myna.ShortPIN}); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("a prompt after an abandoned answer: %v", err)
	}
	if got, err := NewLinePrompter(strings.NewReader(" y \n")).Answer(context.Background()); err != nil || string(got) != " y " {
		t.Fatalf("answer %q %v", got, err)
	}
}

// signalReader says on reading each time a Read starts.
type signalReader struct {
	r       io.Reader
	reading chan struct{}
}

func (s signalReader) Read(b []byte) (int, error) {
	select {
	case s.reading <- struct{}{}:
	default:
	}
	return s.r.Read(b)
}
