package mynakit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/myna"
)

// The APDU log redacts secrets even in commands whose lengths are wrong,
// and the content of every EF that gives the My Number away.
func TestAPDULogRedacts(t *testing.T) {
	var out bytes.Buffer
	l := newAPDULog(&out)
	ok := []byte{0x90, 0x00}
	selectApplet := func(a myna.Applet) {
		aid := a.AID()
		l.trace(append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(aid))}, aid...), ok, 0, nil)
	}
	// VERIFY "1234", well formed and with an Lc one too long.
	l.trace([]byte{0x00, 0x20, 0x00, 0x91, 0x04, '1', '2', '3', '4'}, ok, 0, nil)
	l.trace([]byte{0x00, 0x20, 0x00, 0x91, 0x05, '1', '2', '3', '4'}, ok, 0, nil)
	secretDigits := []byte("537686677188")
	selectApplet(myna.Text)
	l.trace([]byte{0x00, 0xB0, 0x81, 0x00, 0x11}, append(append([]byte{0xFF, 0x10, 0x0C}, secretDigits...), 0xFF, 0xFF, 0x90, 0x00), 0, nil)
	digest := bytes.Repeat([]byte{0xD1}, 32)
	l.trace([]byte{0x00, 0xB0, 0x83, 0x00, 0x00}, append(append([]byte{0xFF, 0x30, 0x22, 0xDF, 0x31, 0x20}, digest...), 0x90, 0x00), 0, nil)
	selectApplet(myna.Surface)
	img := []byte{0x89, 'P', 'N', 'G', 0xE5, 0xE5, 0xE5}
	l.trace([]byte{0x00, 0xB0, 0x85, 0x00, 0x00}, append(append([]byte(nil), img...), 0x90, 0x00), 0, nil)
	// The card face itself (EF 0002) is shown.
	l.trace([]byte{0x00, 0xB0, 0x82, 0x00, 0x02}, []byte{0xAB, 0xCD, 0x90, 0x00}, 0, nil)

	log := out.String()
	for _, leak := range []string{"31 32 33 34", spaced(secretDigits), spaced(digest[:4]), "E5 E5 E5"} {
		if strings.Contains(log, leak) {
			t.Errorf("the log holds %q:\n%s", leak, log)
		}
	}
	if n := strings.Count(log, "holds the My Number]"); n != 3 {
		t.Errorf("%d My Number EFs redacted, want 3:\n%s", n, log)
	}
	if !strings.Contains(log, "00 20 00 91 04 [4 bytes redacted]") || !strings.Contains(log, "00 20 00 91 [5 bytes redacted]") {
		t.Errorf("VERIFY not shown redacted:\n%s", log)
	}
	if !strings.Contains(log, "< AB CD 90 00") {
		t.Errorf("an ordinary EF's content was hidden:\n%s", log)
	}
}
