package face

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// MatchResult is a face engine's answer.
type MatchResult struct {
	// Score is the engine's similarity score, on the engine's own scale.
	Score float64 `json:"score"`
	// Match is the engine's decision at its configured threshold.
	Match bool `json:"match"`
}

// Matcher compares a live picture of a person with the card photo.
// mynakit has no face recogniser of its own: clinics and counters plug in
// the engine they already run (CommandMatcher).
type Matcher interface {
	Match(ctx context.Context, live, card image.Image) (MatchResult, error)
}

// Errors of CommandMatcher; test with errors.Is.
var (
	ErrMatcherFailed = errors.New("face: face-matching command failed")
	ErrMatcherAnswer = errors.New("face: face-matching command gave no valid answer")
)

// Defaults of CommandMatcher.
const (
	DefaultMatchTimeout   = 30 * time.Second
	DefaultMatchMaxOutput = 64 << 10
)

// CommandMatcher runs an operator-configured program for each comparison.
// The two pictures are written as PNG files into a fresh private temporary
// directory (removed afterwards); the program gets their paths as
// arguments and answers on standard output with one JSON object:
//
//	{"score": 0.93, "match": true}
//
// Other members of the object are ignored; score must be a finite number
// and match a boolean. A non-zero exit, a timeout, more output than
// MaxOutput or any other answer is an error.
type CommandMatcher struct {
	// Path is the program to run.
	Path string
	// Args are its arguments. "{live}" and "{card}" stand for the two
	// pictures' paths; when neither appears, the paths are appended, the
	// live picture first.
	Args []string
	// Timeout bounds each run (DefaultMatchTimeout when 0), on top of the
	// context's own deadline.
	Timeout time.Duration
	// MaxOutput bounds standard output (DefaultMatchMaxOutput when 0).
	MaxOutput int
	// Stderr, when set, receives the program's standard error; it is never
	// put into errors.
	Stderr io.Writer
}

// Match implements Matcher.
func (m *CommandMatcher) Match(ctx context.Context, live, card image.Image) (MatchResult, error) {
	if m.Path == "" {
		return MatchResult{}, fmt.Errorf("%w: no command configured", ErrMatcherFailed)
	}
	dir, err := os.MkdirTemp("", "mynakit-match-")
	if err != nil {
		return MatchResult{}, fmt.Errorf("face: matcher: %w", err)
	}
	defer os.RemoveAll(dir)
	livePath, cardPath := filepath.Join(dir, "live.png"), filepath.Join(dir, "card.png")
	for _, f := range []struct {
		path string
		img  image.Image
	}{{livePath, live}, {cardPath, card}} {
		var buf bytes.Buffer
		if err := EncodePNG(&buf, f.img); err != nil {
			return MatchResult{}, err
		}
		if err := os.WriteFile(f.path, buf.Bytes(), 0o600); err != nil {
			return MatchResult{}, fmt.Errorf("face: matcher: %w", err)
		}
	}
	args, placed := make([]string, 0, len(m.Args)+2), false
	for _, a := range m.Args {
		switch a {
		case "{live}":
			a, placed = livePath, true
		case "{card}":
			a, placed = cardPath, true
		}
		args = append(args, a)
	}
	if !placed {
		args = append(args, livePath, cardPath)
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultMatchTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	limit := m.MaxOutput
	if limit <= 0 {
		limit = DefaultMatchMaxOutput
	}
	out := &cappedBuffer{limit: limit}
	cmd := exec.CommandContext(ctx, m.Path, args...)
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = m.Stderr
	cmd.WaitDelay = time.Second // do not wait on children that keep the pipes open
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return MatchResult{}, fmt.Errorf("%w: %s: %w", ErrMatcherFailed, filepath.Base(m.Path), ctx.Err())
		}
		return MatchResult{}, fmt.Errorf("%w: %s: %v", ErrMatcherFailed, filepath.Base(m.Path), err)
	}
	if out.over {
		return MatchResult{}, fmt.Errorf("%w: more than %d bytes of output", ErrMatcherAnswer, limit)
	}
	return parseMatchAnswer(out.Bytes())
}

// parseMatchAnswer reads exactly one JSON object with a finite number
// "score" and a boolean "match".
func parseMatchAnswer(b []byte) (MatchResult, error) {
	var ans struct {
		Score *float64 `json:"score"`
		Match *bool    `json:"match"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&ans); err != nil {
		return MatchResult{}, fmt.Errorf("%w: want {\"score\": number, \"match\": boolean}: %v", ErrMatcherAnswer, err)
	}
	if dec.More() {
		return MatchResult{}, fmt.Errorf("%w: output after the JSON object", ErrMatcherAnswer)
	}
	if _, err := dec.Token(); err != io.EOF {
		return MatchResult{}, fmt.Errorf("%w: output after the JSON object", ErrMatcherAnswer)
	}
	if ans.Score == nil || ans.Match == nil {
		return MatchResult{}, fmt.Errorf("%w: want both \"score\" and \"match\"", ErrMatcherAnswer)
	}
	if math.IsNaN(*ans.Score) || math.IsInf(*ans.Score, 0) {
		return MatchResult{}, fmt.Errorf("%w: score is not a finite number", ErrMatcherAnswer)
	}
	return MatchResult{Score: *ans.Score, Match: *ans.Match}, nil
}

// cappedBuffer keeps the first limit bytes written and notes any more,
// consuming everything so that the program is never blocked on a pipe.
type cappedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.limit - c.Len()
	if len(p) > room {
		c.over = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}
