package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
)

// Through pcscd, a clone that replays a recorded challenge and signature —
// every file of a genuine card, none of its keys — is not genuine, even
// with the anchors that signed its data trusted.
func TestPCSCReplayingCloneIsNotGenuine(t *testing.T) {
	clone := simtest.WriteImage(t, simtest.Clone(t, simtest.Image(t)))
	s := startDefaultMode(t, "--image", clone)
	out, errs, code := runStdin(t, "1234\n", "--reader", s.reader, "--pin-stdin", "--trust-dir", repoFile("simulator/testdata/trust"), "read", "--json")
	var r struct {
		Verification struct {
			Verdict string `json:"verdict"`
			Checks  []struct{ Name, Result string }
		} `json:"verification"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errs)
	}
	failed := map[string]bool{}
	for _, c := range r.Verification.Checks {
		if c.Result == "fail" {
			failed[c.Name] = true
		}
	}
	if code != 1 || r.Verification.Verdict != "not-genuine" || !failed["presence:surface"] || !failed["binding:text-code-a"] {
		t.Fatalf("clone through pcscd: exit %d, %s, failed %v\n%s", code, r.Verification.Verdict, failed, errs)
	}
}

// lockedWriter collects a process's output safely.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
func (w *lockedWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// openPTY opens a pseudo-terminal: what the child reads from the slave
// the test types into the master. Both end with the test.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// A read waiting at its PIN prompt holds no transaction: another
// application's pin status runs meanwhile. SIGTERM at the prompt ends the
// read at once. The read asks on a terminal (a pseudo-terminal here), so
// the test waits for the prompt itself to be written.
func TestPromptHoldsNoTransactionAndSIGTERMEndsIt(t *testing.T) {
	_, path := defaultImage(t)
	s := startDefaultMode(t, "--image", path)
	_, tty := openPTY(t)
	cmd := exec.Command(mynakit(t), "--reader", s.reader, "read")
	cmd.Stdin = tty
	var stderr lockedWriter
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	// The prompt (pin.Request.Label) is written just before the terminal
	// is read.
	for !strings.Contains(stderr.String(), "暗証番号 (4-digit PIN)") {
		select {
		case err := <-exited:
			t.Fatalf("the read ended before its prompt: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill() // the process this test started, by its pid
			t.Fatalf("the read never prompted for the PIN:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, errs, code := runStdin(t, "", "--reader", s.reader, "pin", "status", "--json")
	if code != 0 || !strings.Contains(out, `"text-pin"`) {
		t.Fatalf("pin status while another read waits at its prompt: exit %d\n%s%s", code, out, errs)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("after SIGTERM at the prompt: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("SIGTERM did not end the read waiting at its prompt")
	}
}

// SIGTERM ends a command waiting for the card while another application
// holds it in a transaction.
func TestSIGTERMEndsTheWaitForTheCard(t *testing.T) {
	_, path := defaultImage(t)
	s := startDefaultMode(t, "--image", path)
	_, tr := s.connect(t)
	if err := tr.Begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer tr.End()
	cmd := exec.Command(mynakit(t), "--reader", s.reader, "pin", "status")
	var stderr lockedWriter
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("pin status ran while another application held the card: %v", err)
	case <-time.After(time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Signal(syscall.SIGQUIT)
		time.Sleep(time.Second)
		t.Fatalf("SIGTERM did not end the wait for the PC/SC transaction:\n%s", stderr.String())
	}
}

// A reset by another application reaches the transport as
// apdu.ErrCardReset (not "card removed"), and Reconnect picks the card up.
func TestPCSCResetByAnotherApplication(t *testing.T) {
	_, path := defaultImage(t)
	s := startDefaultMode(t, "--image", path)
	_, mine := s.connect(t)
	_, other := s.connect(t)
	ctx := context.Background()
	card := apdu.NewCard(mine)
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		t.Fatal(err)
	}
	if err := other.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	err := card.SelectAID(ctx, myna.JPKI.AID())
	if !errors.Is(err, apdu.ErrCardReset) || errors.Is(err, apdu.ErrCardRemoved) {
		t.Fatalf("after another application's reset: %v, want ErrCardReset", err)
	}
	if err := mine.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		t.Fatalf("after Reconnect: %v", err)
	}
}
