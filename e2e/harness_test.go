// Package e2e drives mynakit through the real PC/SC stack: pcscd with the
// vsmartcard vpcd driver, the simulator behind it, and OpenSC's tools.
//
// Two ways of running pcscd are used, both reachable from loopback only:
//
//   - default mode: vpcd listens (on all interfaces, as Debian builds it), so
//     pcscd and the simulator run together in a private network namespace
//     (unshare --net) whose only interface is its own loopback. The test talks
//     to pcscd over its Unix socket, which the namespace does not hide. A card
//     can be pulled (the simulator closes its connection) and vpcd survives.
//   - reverse mode: pcscd's vpcd connects to `mynakit sim --vpcd-listen
//     127.0.0.1:PORT`. Debian's vpcd 3.3 aborts pcscd when such a connection
//     drops, so both slots carry a card and nothing is pulled.
//
// The tests need root, pcscd, the vpcd driver and unshare. Without them they
// skip, saying why; with CI set in the environment they fail instead.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mynakit/mynakit/apdu/pcsc"
)

const vpcdDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

// requireStack skips (or, in CI, fails) when the PC/SC stack cannot run here.
func requireStack(t testing.TB) {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("end-to-end test cannot run in CI: %s (make deps installs what is needed)", why)
		}
		t.Skipf("skipping end-to-end test: %s", why)
	}
	if !pcsc.Available() {
		missing("built without cgo, so no PC/SC")
	}
	if os.Geteuid() != 0 {
		missing("needs root to start pcscd")
	}
	for _, bin := range []string{"pcscd", "unshare", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(bin + " is not installed")
		}
	}
	if _, err := os.Stat(vpcdDriver); err != nil {
		missing("the vpcd driver (vsmartcard-vpcd) is not installed")
	}
	if pids := pcscdPIDs(); len(pids) > 0 {
		// A pcscd the tests did not start (a developer's own): its socket
		// is the one every client uses, so the tests cannot run beside it.
		// Outside CI it is left alone; in CI (or when asked) it is stopped
		// by its process id, never by name.
		if os.Getenv("CI") == "" && os.Getenv("MYNAKIT_E2E_STOP_PCSCD") == "" {
			missing(fmt.Sprintf("a pcscd is already running (pid %v; its socket is the one every client uses); stop it or set MYNAKIT_E2E_STOP_PCSCD=1", pids))
		}
		stopForeignPcscd(t, pids)
	}
}

// pcscdPidFile is where pcscd records its process id.
const pcscdPidFile = "/run/pcscd/pcscd.pid"

// pcscdPIDs lists the running pcscd processes, from /proc: the process
// named by pcscd's pid file first, then any other whose command is pcscd.
func pcscdPIDs() []int {
	var pids []int
	seen := map[int]bool{}
	add := func(pid int) {
		if !seen[pid] && isPcscd(pid) {
			seen[pid] = true
			pids = append(pids, pid)
		}
	}
	if b, err := os.ReadFile(pcscdPidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			add(pid)
		}
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			add(pid)
		}
	}
	return pids
}

// isPcscd reports whether pid is a live pcscd (not a zombie).
func isPcscd(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "pcscd" {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: a zombie has exited already.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// stopForeignPcscd ends the given pcscd processes by their ids: SIGTERM,
// then SIGKILL for one still there after 10 s.
func stopForeignPcscd(t testing.TB, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if isPcscd(pid) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for isPcscd(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if isPcscd(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	waitGone(t)
}

// waitGone waits until no pcscd runs and its socket is gone.
func waitGone(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if len(pcscdPIDs()) == 0 {
			_ = os.Remove("/run/pcscd/pcscd.comm")
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("pcscd did not stop (still running: %v)", pcscdPIDs())
}

var (
	buildOnce sync.Once
	cliPath   string
	buildErr  error
)

// mynakit builds the CLI once per test binary.
func mynakit(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mynakit-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		cliPath = filepath.Join(dir, "mynakit")
		out, err := exec.Command("go", "build", "-o", cliPath, "github.com/mynakit/mynakit/cmd/mynakit").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return cliPath
}

// stack is a running pcscd with the simulator behind it.
type stack struct {
	cmds   []*exec.Cmd
	logs   []*strings.Builder
	reader string // the reader holding the simulated card
	dir    string
}

// freePort finds a loopback port with its successor free too (a vpcd
// reader line makes two slots).
func freePort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		l1.Close()
		if err == nil {
			l2.Close()
			return port
		}
	}
	t.Fatal("no free pair of loopback ports")
	return 0
}

func writeReaderConf(t testing.TB, dir, device string, port int) {
	t.Helper()
	conf := fmt.Sprintf("FRIENDLYNAME \"mynakit sim\"\nDEVICENAME %s\nLIBPATH %s\nCHANNELID %d\n", device, vpcdDriver, port)
	if err := os.WriteFile(filepath.Join(dir, "vpcd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// start runs a command in its own process group, collecting its output.
func (s *stack) start(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var log strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return log.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	s.cmds = append(s.cmds, cmd)
	s.logs = append(s.logs, &log)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// stop ends every process group the stack started, newest first, and waits.
func (s *stack) stop(t testing.TB) {
	for i := len(s.cmds) - 1; i >= 0; i-- {
		c := s.cmds[i]
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if t.Failed() {
		for i, l := range s.logs {
			t.Logf("process %d output:\n%s", i, l.String())
		}
	}
	waitGone(t)
}

// startDefaultMode runs pcscd and `mynakit sim --vpcd` inside a private
// network namespace. simArgs are extra flags for the simulator (--image,
// --remove-after, ...).
func startDefaultMode(t testing.TB, simArgs ...string) *stack {
	t.Helper()
	s := launchDefaultMode(t, 0, simArgs...)
	s.reader = s.waitCard(t, "mynakit sim 00 00")
	return s
}

// launchDefaultMode starts pcscd at once and the simulator after delay,
// without waiting for the card.
func launchDefaultMode(t testing.TB, delay time.Duration, simArgs ...string) *stack {
	return launchDefaultModeWith(t, delay, "", simArgs...)
}

// launchDefaultModeWith is launchDefaultMode with extra pcscd flags (for
// example --debug --apdu, whose APDU log lands in the stack's first log).
func launchDefaultModeWith(t testing.TB, delay time.Duration, pcscdFlags string, simArgs ...string) *stack {
	t.Helper()
	requireStack(t)
	bin := mynakit(t)
	s := &stack{dir: t.TempDir()}
	port := 35963
	writeReaderConf(t, s.dir, fmt.Sprintf("/dev/null:%d", port), port)
	script := fmt.Sprintf(`ip link set lo up || exit 1
pcscd --foreground %s -c %q &
pcscd=$!
trap 'kill -TERM $pcscd $sim 2>/dev/null; wait' TERM INT EXIT
sleep %.1f
%q sim --vpcd 127.0.0.1:%d %s &
sim=$!
wait $sim
`, pcscdFlags, s.dir, delay.Seconds(), bin, port, shellJoin(simArgs))
	s.start(t, "unshare", "--net", "--", "sh", "-c", script)
	t.Cleanup(func() { s.stop(t) })
	return s
}

// startReverseMode runs `mynakit sim --vpcd-listen 127.0.0.1:PORT` and then
// pcscd, whose vpcd connects to it.
func startReverseMode(t testing.TB, simArgs ...string) *stack {
	t.Helper()
	requireStack(t)
	bin := mynakit(t)
	s := &stack{dir: t.TempDir()}
	port := freePort(t)
	writeReaderConf(t, s.dir, fmt.Sprintf("localhost:%d", port), port)
	s.start(t, bin, append([]string{"sim", "--vpcd-listen", fmt.Sprintf("127.0.0.1:%d", port)}, simArgs...)...)
	waitListening(t, port)
	waitListening(t, port+1)
	s.start(t, "pcscd", "--foreground", "-c", s.dir)
	t.Cleanup(func() { s.stop(t) })
	s.reader = s.waitCard(t, "mynakit sim 00 00")
	return s
}

func waitListening(t testing.TB, port int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			// Say nothing and hang up: the simulator serves this connection
			// as a driver that went away at once.
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}

// waitCard waits until pcscd shows a card in the named reader.
func (s *stack) waitCard(t testing.TB, name string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		pc, err := pcsc.Establish()
		if err == nil {
			readers, err := pc.Readers()
			pc.Close()
			if err == nil {
				for _, r := range readers {
					if r.Name == name && r.CardPresent {
						return r.Name
					}
				}
				last = fmt.Errorf("readers: %+v", readers)
			} else {
				last = err
			}
		} else {
			last = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, l := range s.logs {
		t.Logf("process %d output:\n%s", i, l.String())
	}
	t.Fatalf("no card in %q after 20s: %v", name, last)
	return ""
}

// connect opens the stack's card through PC/SC.
func (s *stack) connect(t testing.TB) (*pcsc.Context, *pcsc.Transport) {
	t.Helper()
	pc, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pc.Connect(context.Background(), s.reader, pcsc.ShareShared)
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tr.Close()
		_ = pc.Close()
	})
	return pc, tr
}

// run runs the CLI (outside any namespace) and returns its output.
func run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, mynakit(t), args...).CombinedOutput()
	return string(out), err
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

var errNoTool = errors.New("tool not installed")

func isCI() bool { return os.Getenv("CI") != "" }
