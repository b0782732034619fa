package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// A full read of the default persona through pcscd + vpcd sends at most 30
// APDUs, as pcscd's own APDU log counts them: 28 in process (the text
// applet's presence proof and the SELECTs that learn which applets are
// there before the PIN is asked included) and what pcscd re-checks of the
// card's state after the PIN prompt.
func TestFullReadAPDUsCountedByPCSCD(t *testing.T) {
	_, path := defaultImage(t)
	s := launchDefaultModeWith(t, 0, "--debug --apdu", "--image", path)
	s.reader = s.waitCard(t, "mynakit sim 00 00")
	log := func() string { return s.logs[0].String() }
	apdu := regexp.MustCompile(`(?m)APDU: ([0-9A-F]{2} ?)+`)
	before := len(apdu.FindAllString(log(), -1))
	out, errs, code := runStdin(t, "1234\n", "--reader", s.reader, "--pin-stdin", "--trust-dir", repoFile("simulator/testdata/trust"), "read", "--json")
	if code != 0 {
		t.Fatalf("read: exit %d\n%s%s", code, out, errs)
	}
	// pcscd writes its log as it goes; give the last lines a moment.
	var n int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n = len(apdu.FindAllString(log(), -1)) - before
		if strings.Contains(out, `"apdus"`) && n > 0 {
			break
		}
	}
	t.Logf("pcscd logged %d APDUs for a full read", n)
	if n == 0 || n > 30 {
		t.Fatalf("pcscd logged %d APDUs for a full read, want 1..30:\n%s", n, tail(log(), 80))
	}
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
