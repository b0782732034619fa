//go:build unix

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mynakit/mynakit/oqs"
)

// bareShare makes the terminal's folders with no terminal behind them.
func bareShare(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{oqs.DirRequests, oqs.DirResults, oqs.DirFace, oqs.DirTrash} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// fifoAtResult waits for the request in req and puts a FIFO at its
// result's name, as a hostile program on the share would.
func fifoAtResult(t *testing.T, root string) {
	t.Helper()
	var name string
	waitFor(t, 10*time.Second, "the request", func() bool {
		ents, _ := os.ReadDir(filepath.Join(root, oqs.DirRequests))
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".") {
				name = e.Name()
				return true
			}
		}
		return false
	})
	res, err := oqs.ResultName(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, oqs.DirResults, res), 0o644); err != nil {
		t.Fatal(err)
	}
}

var oqsPatient = []string{"--insurer", "138024", "--number", "17", "--birth", "19491107"}

// A FIFO at the result's name once held open(2) for ever: oqs confirm
// --timeout 3s now ends with the timeout status (4) within 5 s.
func TestOQSConfirmWithFIFOAtResultTimesOut(t *testing.T) {
	root := bareShare(t)
	start := time.Now()
	done := make(chan int, 1)
	var out, errw syncBuffer
	go func() {
		done <- runIn(context.Background(), &out, &errw, append([]string{"oqs", "confirm", "--root", root, "--mic", testClinic,
			"--state", t.TempDir(), "--poll", "50ms", "--timeout", "3s"}, oqsPatient...)...)
	}()
	fifoAtResult(t, root)
	select {
	case code := <-done:
		if code != exitOQSTimeout || !strings.Contains(errw.String(), "FIFO") {
			t.Fatalf("exit %d after %s: %s", code, time.Since(start), errw.String())
		}
	case <-time.After(5*time.Second - time.Since(start)):
		t.Fatal("oqs confirm --timeout 3s still running after 5 s")
	}
}

// TestOQSHelperProcess is not a test: run by TestOQSConfirmEndsOnSIGTERM as
// the mynakit command, with its arguments in MYNAKIT_OQS_HELPER_ARGS.
func TestOQSHelperProcess(t *testing.T) {
	args := os.Getenv("MYNAKIT_OQS_HELPER_ARGS")
	if args == "" {
		t.Skip("helper process only")
	}
	os.Args = append([]string{"mynakit"}, strings.Split(args, "\x1f")...)
	main()
	os.Exit(0)
}

// SIGTERM ends oqs confirm while it waits with a FIFO at the result's name
// (it used to sit in open(2) and need SIGKILL).
func TestOQSConfirmEndsOnSIGTERM(t *testing.T) {
	root := bareShare(t)
	args := append([]string{"oqs", "confirm", "--root", root, "--mic", testClinic, "--state", t.TempDir(), "--poll", "20ms", "--timeout", "1h"}, oqsPatient...)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOQSHelperProcess$")
	cmd.Env = append(os.Environ(), "MYNAKIT_OQS_HELPER_ARGS="+strings.Join(args, "\x1f"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fifoAtResult(t, root)
	// Let it poll the FIFO a few times (nothing to observe but a hang).
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitOQSError {
			t.Fatalf("after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill() // the one process this test started, by its pid
		<-exited
		t.Fatal("SIGTERM did not end oqs confirm")
	}
}

// Face file names chosen by another program reach the terminal escaped:
// no escape sequence, no bidirectional override gets through oqs watch.
func TestOQSWatchEscapesFileNames(t *testing.T) {
	root := bareShare(t)
	hostile := "OQSsiquc01res_face_\x1b]0;owned\x07\x1b[2J\u202e.xml"
	if err := os.WriteFile(filepath.Join(root, oqs.DirFace, hostile), []byte("<x/>"), 0o644); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errw syncBuffer
	go func() {
		done <- runIn(ctx, &out, &errw, "oqs", "watch", "--root", root, "--interval", "20ms")
	}()
	waitFor(t, 10*time.Second, "the report of the hostile name", func() bool { return strings.Contains(out.String(), "unreadable") })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("watch exited %d: %s", code, errw.String())
	}
	got := out.String()
	if strings.ContainsAny(got, "\x1b\x07\u202e") {
		t.Fatalf("raw control characters reached the terminal: %q", got)
	}
	if !strings.Contains(got, `\x1b]0;owned\x07\x1b[2J\u202e.xml`) {
		t.Fatalf("the name is not shown escaped: %q", got)
	}
}

// A face folder that goes away is reported, and the watch goes on.
func TestOQSWatchReportsMissingFaceFolder(t *testing.T) {
	root := bareShare(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errw syncBuffer
	go func() {
		done <- runIn(ctx, &out, &errw, "oqs", "watch", "--root", root, "--interval", "20ms")
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("watch exited %d: %s", code, errw.String())
		}
	}()
	waitFor(t, 10*time.Second, "the watch to start", func() bool { return strings.Contains(errw.String(), "watching") })
	face := filepath.Join(root, oqs.DirFace)
	if err := os.Rename(face, face+".gone"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the missing folder to be reported", func() bool {
		return strings.Contains(out.String(), "face folder "+face) && strings.Contains(out.String(), "cannot be read")
	})
}
