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
