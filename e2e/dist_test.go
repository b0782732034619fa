package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// releaseDeb finds the .deb make test built (MYNAKIT_DIST), or builds the
// release of this checkout.
func releaseDeb(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MYNAKIT_DIST")
	if dir == "" {
		for _, tool := range []string{"wixl", "msibuild", "msiinfo"} {
			if _, err := exec.LookPath(tool); err != nil {
				if isCI() {
					t.Fatalf("%s is not installed (make deps installs it)", tool)
				}
				t.Skipf("dist/build.sh needs %s (make deps installs it), or set MYNAKIT_DIST to a built release", tool)
			}
		}
		dir = filepath.Join(t.TempDir(), "dist")
		out, err := exec.Command(repoFile("dist/build.sh"), dir).CombinedOutput()
		if err != nil {
			t.Fatalf("dist/build.sh: %v\n%s", err, out)
		}
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "mynakit_*_amd64.deb"))
	if len(debs) != 1 {
		t.Fatalf("want one amd64 .deb in %s, found %v", dir, debs)
	}
	return debs[0]
}

// unitValue reads one Key= of a unit file.
func unitValue(t *testing.T, path, key string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			return v
		}
	}
	t.Fatalf("%s has no %s=", path, key)
	return ""
}

// The packaged mynakit, extracted from the .deb into a temporary root,
// reads the simulated card through pcscd, and its bridge starts on the
// first connection to the socket unit's address (systemd-socket-activate
// plays systemd's part, running the service's ExecStart) and serves the
// readers from pcscd.
func TestDistDebReadsAndSocketActivatedBridgeServes(t *testing.T) {
	requireStack(t)
	for _, bin := range []string{"dpkg-deb", "systemd-socket-activate"} {
		if _, err := exec.LookPath(bin); err != nil {
			if isCI() {
				t.Fatalf("%s is not installed (make deps installs it)", bin)
			}
			t.Skipf("%s is not installed", bin)
		}
	}
	deb := releaseDeb(t)
	root := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-x", deb, root).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	bin := filepath.Join(root, "usr/bin/mynakit")
	for _, f := range []string{"usr/share/man/man1/mynakit-serve.1.gz", "usr/share/bash-completion/completions/mynakit", "usr/lib/systemd/user/mynakit.socket"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Fatalf("the package lacks %s: %v", f, err)
		}
	}

	_, image := defaultImage(t)
	s := startDefaultMode(t, "--image", image)

	// The packaged binary reads the card through pcscd.
	cmd := exec.Command(bin, "--reader", s.reader, "--pin-stdin", "--trust-dir", repoFile("simulator/testdata/trust"), "read", "--json")
	cmd.Stdin = strings.NewReader("1234\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var r struct {
		Verification struct{ Verdict string } `json:"verification"`
	}
	if err != nil || json.Unmarshal(out, &r) != nil || r.Verification.Verdict != "genuine" {
		t.Fatalf("packaged mynakit read: %v, verdict %q\n%s", err, r.Verification.Verdict, stderr.String())
	}

	// The bridge, socket-activated on the unit's address with the unit's
	// ExecStart (%S and %t are the user's state and runtime directories).
	addr := unitValue(t, filepath.Join(root, "usr/lib/systemd/user/mynakit.socket"), "ListenStream")
	if addr != "127.0.0.1:7457" {
		t.Fatalf("the socket unit listens on %q", addr)
	}
	if ln, err := net.Listen("tcp", addr); err != nil {
		if isCI() {
			t.Fatalf("the unit's address is taken: %v", err)
		}
		t.Skipf("the unit's address %s is taken here (another bridge runs): %v", addr, err)
	} else {
		ln.Close()
	}
	state, runtime := t.TempDir(), t.TempDir()
	os.Chmod(runtime, 0o700)
	execStart := unitValue(t, filepath.Join(root, "usr/lib/systemd/user/mynakit.service"), "ExecStart")
	execStart = strings.NewReplacer("%S", state, "%t", runtime, "/usr/bin/mynakit", bin).Replace(execStart)
	args := []string{"-l", addr, "-E", "XDG_RUNTIME_DIR=" + runtime, "-E", "XDG_STATE_HOME=" + state}
	args = append(args, strings.Fields(execStart)...)
	act := exec.Command("systemd-socket-activate", args...)
	act.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var actLog lockedWriter
	act.Stdout, act.Stderr = &actLog, &actLog
	if err := act.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-act.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { act.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-act.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("systemd-socket-activate and the bridge:\n%s", actLog.String())
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(actLog.String(), "Listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("systemd-socket-activate did not listen:\n%s", actLog.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(actLog.String(), "Execing") {
		t.Fatal("the bridge started before any connection")
	}
	// The first connection starts the bridge, which answers it; the
	// readers appear once its PC/SC watch has seen pcscd's.
	client := &http.Client{Timeout: 20 * time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/v1/readers")
		if err != nil {
			t.Fatalf("GET /v1/readers: %v", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/readers: %d %s", resp.StatusCode, body)
		}
		if strings.Contains(string(body), s.reader) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bridge never listed the simulator's reader: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !regexp.MustCompile(`Execing .*mynakit`).MatchString(actLog.String()) {
		t.Fatalf("the bridge was not started by the activation:\n%s", actLog.String())
	}

	// The packaged doctor sees pcscd, the card and the bridge.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dcmd := exec.CommandContext(ctx, bin, "doctor", "--json", "--bridge", "http://"+addr, "--access-log", filepath.Join(state, "mynakit", "access-log"))
	dcmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime)
	dout, err := dcmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	var rep struct {
		Findings []struct{ Check, Status, Message, Subject string }
	}
	if err := json.Unmarshal(dout, &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, dout)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		switch {
		case f.Check == "card" && f.Subject == s.reader:
			got["card"] = f.Status
			if !strings.Contains(f.Message, "3BE000FF8131FE4514") {
				t.Errorf("doctor's card finding: %+v", f)
			}
		case f.Check == "bridge" || f.Check == "pcsc-service":
			got[f.Check] = f.Status
		}
	}
	if got["pcsc-service"] != "ok" || got["bridge"] != "ok" || got["card"] != "ok" {
		t.Fatalf("doctor through the package: %v\n%s", got, dout)
	}
}
