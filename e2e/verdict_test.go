package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// runStdin runs the CLI with stdin and returns stdout and the exit code.
func runStdin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, mynakit(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// repoFile is a path inside the repository.
func repoFile(rel string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", rel)
}

// TestPCSCCardIsNotGenuineOnTestAnchors: the simulator seen through pcscd is
// a card like any other, so its test hierarchy is not trusted: the verdict
// is unknown (exit 2). Naming the test anchors with --trust-dir makes it
// genuine.
func TestPCSCCardIsNotGenuineOnTestAnchors(t *testing.T) {
	_, path := defaultImage(t)
	s := startDefaultMode(t, "--image", path)
	verdict := func(out string) string {
		var r struct {
			Verification struct {
				Verdict string `json:"verdict"`
			} `json:"verification"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return r.Verification.Verdict
	}
	out, errs, code := runStdin(t, "1234\n", "--reader", s.reader, "--pin-stdin", "read", "--json")
	if code != 2 || verdict(out) != "unknown" {
		t.Fatalf("through pcscd without --trust-dir: exit %d, verdict %q\n%s", code, verdict(out), errs)
	}
	out, errs, code = runStdin(t, "1234\n", "--reader", s.reader, "--pin-stdin", "--trust-dir", repoFile("simulator/testdata/trust"), "read", "--json")
	if code != 0 || verdict(out) != "genuine" {
		t.Fatalf("with the test anchors named: exit %d, verdict %q\n%s", code, verdict(out), errs)
	}
	if strings.Contains(errs, "1234") {
		t.Error("the PIN reached standard error")
	}
}

// TestReadWaitsForTheCard: `read --wait` started before the card is in the
// reader waits for it, as at a counter.
func TestReadWaitsForTheCard(t *testing.T) {
	_, path := defaultImage(t)
	launchDefaultMode(t, 3*time.Second, "--image", path)
	// Wait for pcscd to list the (still empty) reader.
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, _ := runStdin(t, "", "readers", "--json")
		if strings.Contains(out, `"card_present": false`) && strings.Contains(out, "mynakit sim 00 00") {
			break
		}
		if strings.Contains(out, `"card_present": true`) {
			t.Skip("the card arrived before the reader could be seen empty")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no empty reader: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, errs, code := runStdin(t, "", "--wait", "--reader", "mynakit sim 00 00", "read", "--only", "jpki,common", "--json")
	if code != 2 || !strings.Contains(errs, "insert a card") || !strings.Contains(out, `"serial": "400000012719843"`) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}

// readJSON runs read --json with secrets from stdin, trusting the
// simulator's anchors, and returns the verdict, the failed checks, stderr
// and the exit status.
func readJSON(t *testing.T, reader, stdin string, extra ...string) (string, map[string]bool, string, int) {
	t.Helper()
	args := append([]string{"--reader", reader, "--pin-stdin", "--trust-dir", repoFile("simulator/testdata/trust")}, extra...)
	out, errs, code := runStdin(t, stdin, append(args, "read", "--json")...)
	var r struct {
		Verification struct {
			Verdict string `json:"verdict"`
			Checks  []struct{ Name, Result string }
		} `json:"verification"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("exit %d: %v\n%s%s", code, err, out, errs)
	}
	failed := map[string]bool{}
	for _, c := range r.Verification.Checks {
		if c.Result == "fail" {
			failed[c.Name] = true
		}
	}
	return r.Verification.Verdict, failed, errs, code
}

// Issue 14, finding 9, through pcscd: a card without the text applet, read
// with the PIN on standard input, is not genuine (exit 1, card:applets) —
// the PIN line is not taken as 照合番号B, and no secret is asked.
func TestPCSCMissingTextAppletTakesNoSecret(t *testing.T) {
	img := simtest.Image(t)
	delete(img.Applets, simtest.AID(myna.Text))
	s := startDefaultMode(t, "--image", simtest.WriteImage(t, img))
	verdict, failed, errs, code := readJSON(t, s.reader, "1234\n")
	if code != 1 || verdict != "not-genuine" || !failed["card:applets"] {
		t.Fatalf("exit %d, %s, failed %v\n%s", code, verdict, failed, errs)
	}
	if strings.Contains(errs, "照合番号B") || strings.Contains(errs, "1234") {
		t.Fatalf("a secret was asked for, or shown:\n%s", errs)
	}
}

// Issue 14, finding 1, through pcscd: the attacker's genuine card face,
// which answers 90 00 to the victim's My Number as 照合番号A, beside a
// key-less copy of the victim's signed text applet (same birth date and
// sex), is not genuine: the text applet cannot prove its presence.
func TestPCSCShimWithAnotherPersonsTextIsNotGenuine(t *testing.T) {
	victim := persona.Default()
	d, _ := myna.CheckDigit("12345678901")
	victim.Name, victim.Address, victim.Municipality = "両儀　式", "東京都三鷹市下連雀１－２－３", "13204"
	victim.MyNumber = simulator.Secret("12345678901" + string(d))
	own, stolen := simtest.Image(t), simtest.Image(t, func(p *persona.Persona) { *p = *victim })
	text := simtest.Applet(stolen, myna.Text)
	text.PrivateKeys = nil
	own.Applets[simtest.AID(myna.Text)] = text
	codeA := victim.MyNumber
	simtest.Applet(own, myna.Surface).Keys[simulator.FIDString(myna.SurfaceCodeA)].Value = &codeA
	s := startDefaultMode(t, "--image", simtest.WriteImage(t, own))
	verdict, failed, errs, code := readJSON(t, s.reader, "1234\n")
	if code != 1 || verdict != "not-genuine" || !failed["presence:text"] || failed["binding:text-code-a"] || failed["consistency:birth-date"] {
		t.Fatalf("exit %d, %s, failed %v\n%s", code, verdict, failed, errs)
	}
}
