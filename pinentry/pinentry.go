// Package pinentry asks for a card secret through a pinentry program (the
// PIN dialog GnuPG uses: pinentry-gnome3, pinentry-qt, pinentry-mac, ...),
// for processes that have no terminal and must not let the secret pass
// through anything else: the browser native-messaging host, chiefly.
//
// It speaks the Assuan protocol's few commands a PIN dialog needs: SETTITLE,
// SETDESC, SETPROMPT, SETERROR, GETPIN and BYE (GnuPG's "pinentry" manual).
// The secret comes back percent-escaped on a "D" line; it is decoded into a
// byte slice the caller owns and can wipe, and never into a string.
package pinentry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/mynakit/mynakit/pin"
)

// ErrCancelled: the holder closed the dialog.
var ErrCancelled = errors.New("pinentry: cancelled")

// maxLine bounds one line from the program; a PIN dialog answers a few
// dozen bytes.
const maxLine = 4096

// Prompter is a pin.Prompter backed by a pinentry program.
type Prompter struct {
	// Program is the pinentry executable ("pinentry" on PATH if empty).
	Program string
	// Describe returns the dialog's text for a request, e.g. which site
	// asks and for what. nil: the request's own label.
	Describe func(ctx context.Context, req pin.Request) string
	// Cancelled wraps ErrCancelled in errors the caller maps (optional).
	Cancelled error
}

var _ pin.Prompter = (*Prompter)(nil)

// Prompt runs the program once and asks for one secret.
func (p *Prompter) Prompt(ctx context.Context, req pin.Request) ([]byte, error) {
	prog := p.Program
	if prog == "" {
		prog = "pinentry"
	}
	cmd := exec.CommandContext(ctx, prog)
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pinentry: start %s: %w", prog, err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	c := &conv{r: bufio.NewReaderSize(stdout, maxLine), w: stdin}
	if _, err := c.await(); err != nil {
		return nil, fmt.Errorf("pinentry: greeting: %w", err)
	}
	desc := req.Label()
	if p.Describe != nil {
		desc = p.Describe(ctx, req)
	}
	steps := []string{
		"SETTITLE mynakit",
		"SETDESC " + escape(desc),
		"SETPROMPT " + escape(strings.TrimSuffix(req.Label(), ": ")),
	}
	if req.Retry {
		steps = append(steps, "SETERROR "+escape("違います。もう一度 wrong, try again"))
	}
	for _, s := range steps {
		if err := c.send(s); err != nil {
			return nil, err
		}
		if _, err := c.await(); err != nil {
			return nil, fmt.Errorf("pinentry: %s: %w", strings.Fields(s)[0], err)
		}
	}
	if err := c.send("GETPIN"); err != nil {
		return nil, err
	}
	secret, err := c.await()
	if err != nil {
		pin.Wipe(secret)
		if errors.Is(err, ErrCancelled) && p.Cancelled != nil {
			return nil, fmt.Errorf("%w: %w", p.Cancelled, err)
		}
		return nil, err
	}
	_ = c.send("BYE")
	return secret, nil
}

type conv struct {
	r *bufio.Reader
	w io.Writer
}

func (c *conv) send(line string) error {
	_, err := io.WriteString(c.w, line+"\n")
	return err
}

// await reads lines up to OK or ERR, collecting D lines' decoded data.
func (c *conv) await() ([]byte, error) {
	var data []byte
	for {
		line, err := c.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			pin.Wipe(data)
			return nil, errors.New("line too long")
		}
		if err != nil {
			pin.Wipe(data)
			return nil, fmt.Errorf("program ended: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case bytes.Equal(line, []byte("OK")) || bytes.HasPrefix(line, []byte("OK ")):
			return data, nil
		case bytes.HasPrefix(line, []byte("D ")):
			data = unescapeAppend(data, line[2:])
			pin.Wipe(line)
		case bytes.HasPrefix(line, []byte("ERR ")):
			pin.Wipe(data)
			f := strings.Fields(string(line[4:]))
			if len(f) > 0 {
				if code, err := strconv.ParseUint(f[0], 10, 32); err == nil && code&0xFFFF == 99 {
					return nil, ErrCancelled
				}
			}
			return nil, fmt.Errorf("pinentry error: %s", strings.Join(f, " "))
		default:
			// Status (S), comment (#) and INQUIRE lines: nothing to take.
		}
	}
}

// escape percent-escapes what Assuan cannot carry on a line.
func escape(s string) string {
	r := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	return r.Replace(s)
}

// unescapeAppend decodes %XX escapes; hex.Decode works on the bytes in
// place, so no piece of the secret is ever copied into a string.
func unescapeAppend(dst, src []byte) []byte {
	var b [1]byte
	for i := 0; i < len(src); i++ {
		if src[i] == '%' && i+2 < len(src) {
			if _, err := hex.Decode(b[:], src[i+1:i+3]); err == nil {
				dst = append(dst, b[0])
				b[0] = 0
				i += 2
				continue
			}
		}
		dst = append(dst, src[i])
	}
	return dst
}
