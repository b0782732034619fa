//go:build linux

package bridge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/rundir"
)

// nobody is the other OS user the clients run as.
const nobody = 65534

// asNobody runs this test binary's TestHelperOtherUser as another OS user
// (root only: CI runs as root), with env, and returns what it printed.
func asNobody(t *testing.T, env ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another OS user (CI runs as root)")
	}
	// The test binary, where the other user can run it.
	dir, err := os.MkdirTemp("", "mynakit-otheruser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bridge.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperOtherUser$", "-test.count=1")
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "MYNAKIT_HELPER_OTHER_USER=1"}, env...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	return string(out)
}

// TestHelperOtherUser is the client run as another OS user: it tries to
// read the launch secret and to talk to the bridge over its socket, and
// says what happened.
func TestHelperOtherUser(t *testing.T) {
	if os.Getenv("MYNAKIT_HELPER_OTHER_USER") == "" {
		t.Skip("run by the other-user tests only")
	}
	fmt.Printf("uid %d\n", os.Geteuid())
	if p := os.Getenv("MYNAKIT_SECRET"); p != "" {
		_, err := os.ReadFile(p)
		fmt.Printf("secret: %v\n", errWord(err))
	}
	if p := os.Getenv("MYNAKIT_SOCKET"); p != "" {
		c, err := net.DialTimeout("unix", p, 5*time.Second)
		if err != nil {
			fmt.Printf("socket: %v\n", errWord(err))
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, "GET /v1/readers HTTP/1.1\r\nHost: mynakit\r\nAuthorization: Bearer x\r\n\r\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case err != nil:
			fmt.Printf("socket: closed (%v)\n", errWord(err))
		default:
			fmt.Printf("socket: answered %q\n", strings.TrimSpace(line))
		}
	}
}

func errWord(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset"):
		return "eof"
	}
	return err.Error()
}

// Acceptance: a process of another OS user cannot read the launch secret
// and cannot connect to the socket, where serve puts them.
func TestAnotherUserCannotReadTheSecretOrUseTheSocket(t *testing.T) {
	if os.Getenv("MYNAKIT_HELPER_OTHER_USER") != "" {
		t.Skip("helper")
	}
	base, err := os.MkdirTemp("", "mynakit-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755) // the other user may look in, but not further
	runDir := filepath.Join(base, "mynakit")
	if err := rundir.Make(runDir); err != nil {
		t.Fatal(err)
	}
	lg, err := accesslog.Open(t.TempDir(), accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Addr: ln.Addr().String(), Backend: NewLocalReaders(), Log: lg})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(runDir, SocketFile)
	uln, err := ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	l := b.Launch()
	l.Socket = sock
	if err := WriteLaunch(runDir, l); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln, uln) }()
	defer func() { cancel(); <-done }()

	// The modes and the owner, as the other user meets them.
	for path, want := range map[string]os.FileMode{runDir: 0o700, filepath.Join(runDir, LaunchFile): 0o600, sock: 0o600} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want || fi.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
			t.Errorf("%s: mode %04o uid %d", path, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid)
		}
	}
	// This user reads the launch file and is answered on the socket.
	if got, err := ReadLaunch(runDir); err != nil || string(got.Secret) != string(l.Secret) {
		t.Fatalf("this user: %v", err)
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /v1/readers HTTP/1.1\r\nHost: mynakit\r\nConnection: close\r\n\r\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("this user over the socket: %q", line)
	}
	out := asNobody(t, "MYNAKIT_SECRET="+filepath.Join(runDir, LaunchFile), "MYNAKIT_SOCKET="+sock)
	if !strings.Contains(out, fmt.Sprintf("uid %d", nobody)) || !strings.Contains(out, "secret: permission denied") || !strings.Contains(out, "socket: permission denied") {
		t.Fatalf("as another user:\n%s", out)
	}
}

// Behind the folder's and the socket's modes, the peer credentials: a
// process of another user that reaches the socket (here, one left open to
// everyone) is disconnected without an answer.
func TestSocketRefusesAnotherUsersProcess(t *testing.T) {
	if os.Getenv("MYNAKIT_HELPER_OTHER_USER") != "" {
		t.Skip("helper")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another OS user (CI runs as root)")
	}
	dir, err := os.MkdirTemp("", "mynakit-opensock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	sock := filepath.Join(dir, "open.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o777)
	denied := make(chan int, 1)
	pl := &peerListener{UnixListener: ul, uid: os.Geteuid(), onDeny: func(uid int) { denied <- uid }}
	lg, err := accesslog.Open(t.TempDir(), accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Addr: ln.Addr().String(), Backend: NewLocalReaders(), Log: lg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln, pl) }()
	defer func() { cancel(); <-done }()
	out := asNobody(t, "MYNAKIT_SOCKET="+sock)
	if !strings.Contains(out, "socket: closed") || strings.Contains(out, "answered") {
		t.Fatalf("another user's process on an open socket:\n%s", out)
	}
	select {
	case uid := <-denied:
		if uid != nobody {
			t.Fatalf("denied uid %d", uid)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the peer check did not run")
	}
}
