package mynakit

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// apduLog writes every exchange to w for a support desk: the command, the
// response and how long it took. It never writes a secret or the My
// Number: the data of VERIFY, CHANGE REFERENCE DATA and CHANGE KEY is
// redacted, and so is the content of every EF that gives the My Number
// away (myna.RevealsMyNumber), wherever it is read from.
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
		if myna.RevealsMyNumber(l.applet, l.ef) && len(data) > 0 {
			shown = fmt.Sprintf("[%d bytes redacted: %s EF %04X holds the My Number]", len(data), l.applet.JapaneseName(), l.ef)
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
	parsed, perr := apdu.ParseCommand(cmd)
	data := parsed.Data
	switch ins, p1 := cmd[1], cmd[2]; {
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
	switch {
	case !pin.CarriesSecret(cmd):
		return spaced(cmd)
	case perr != nil:
		// A secret-carrying command whose lengths do not add up: where its
		// data ends is unknown, so nothing after the header is shown.
		return fmt.Sprintf("%s [%d bytes redacted]", spaced(cmd[:4]), len(cmd)-4)
	case len(data) == 0:
		return spaced(cmd)
	}
	head := cmd[:5] // CLA INS P1 P2 Lc
	if parsed.Extended {
		head = cmd[:7]
	}
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
