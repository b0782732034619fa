package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/apdu/pcsc"
)

// The demo's pull and re-insert: `mynakit sim pull|insert --control` takes
// the simulated card out of the reader pcscd sees and puts it back.
func TestSimulatorCardPulledAndReinserted(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "control")
	s := startDefaultMode(t, "--control", sock)
	if out, err := run(t, "sim", "pull", "--control", sock); err != nil || !strings.Contains(out, "card absent") {
		t.Fatalf("sim pull: %v\n%s", err, out)
	}
	waitPresence(t, s.reader, false)
	if out, err := run(t, "sim", "insert", "--control", sock); err != nil || !strings.Contains(out, "card present") {
		t.Fatalf("sim insert: %v\n%s", err, out)
	}
	s.waitCard(t, s.reader)
}

// waitPresence waits until pcscd reports the reader's card present or not.
func waitPresence(t *testing.T, reader string, present bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if pc, err := pcsc.Establish(); err == nil {
			readers, err := pc.Readers()
			pc.Close()
			if err == nil {
				for _, r := range readers {
					if r.Name == reader && r.CardPresent == present {
						return
					}
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("reader %q: card present is not %v after 15 s", reader, present)
}
