package mynakit

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/myna"
)

// apduLog writes every exchange to w for a support desk: the command, the
// response and how long it took. It never writes a secret or the My
// Number: the data of VERIFY, CHANGE REFERENCE DATA and CHANGE KEY is
// redacted, and so is the content of the text applet's 個人番号 EF (its
// digits are plain ASCII), wherever it is read from.
type apduLog struct {
	mu     sync.Mutex
	w      io.Writer
	applet myna.Applet
	ef     uint16
}

func newAPDULog(w io.Writer) *apduLog { return &apduLog{w: w} }

func (l *apduLog) trace(cmd, resp []byte, took time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := "> " + l.command(cmd)
	switch {
	case err != nil:
		out += fmt.Sprintf("\n< error after %s: %v", round(took), err)
	case len(resp) < 2:
		out += fmt.Sprintf("\n< (%d bytes, no status word) %s", len(resp), round(took))
	default:
		data, sw := resp[:len(resp)-2], resp[len(resp)-2:]
		shown := spaced(data)
		if l.applet == myna.Text && l.ef == myna.TextMyNumber && len(data) > 0 {
			shown = fmt.Sprintf("[%d bytes redacted: 個人番号 EF]", len(data))
		}
		if shown != "" {
			shown += " "
		}
		out += fmt.Sprintf("\n< %s%s  (%s)", shown, spaced(sw), round(took))
	}
	fmt.Fprintln(l.w, out)
}

// command shows a command, redacting secrets, and follows which applet and
// EF it addresses.
func (l *apduLog) command(cmd []byte) string {
	if len(cmd) < 4 {
		return spaced(cmd)
	}
	ins, p1 := cmd[1], cmd[2]
	data := []byte(nil)
	if len(cmd) > 5 {
		n := int(cmd[4])
		if cmd[4] == 0 && len(cmd) > 7 {
			n = int(cmd[5])<<8 | int(cmd[6])
			if 7+n <= len(cmd) {
				data = cmd[7 : 7+n]
			}
		} else if 5+n <= len(cmd) {
			data = cmd[5 : 5+n]
		}
	}
	switch {
	case ins == 0xA4 && p1 == 0x04:
		l.applet, l.ef = 0, 0
		if a, ok := myna.AppletByAID(data); ok {
			l.applet = a
		}
	case ins == 0xA4 && p1 == 0x02 && len(data) == 2:
		l.ef = uint16(data[0])<<8 | uint16(data[1])
	case ins == 0xB0 && p1&0x80 != 0:
		l.ef = uint16(p1 & 0x1F)
	}
	secret := (ins == 0x20 || ins == 0x24 || ins == 0x32) && len(data) > 0
	if !secret {
		return spaced(cmd)
	}
	head := cmd[:len(cmd)-len(data)]
	return fmt.Sprintf("%s [%d bytes redacted]%s", spaced(head), len(data), tailOf(cmd, head, data))
}

// tailOf shows what follows the data (an Le), if anything.
func tailOf(cmd, head, data []byte) string {
	rest := cmd[len(head)+len(data):]
	if len(rest) == 0 {
		return ""
	}
	return " " + spaced(rest)
}

func spaced(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02X", c)
	}
	return s.String()
}

func round(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
