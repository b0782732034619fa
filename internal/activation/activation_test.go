//go:build unix

package activation

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The child half: LISTEN_PID names this process, as a service manager sets
// it between fork and exec; the child reports what Listener returned.
func TestMain(m *testing.M) {
	if os.Getenv("ACTIVATION_CHILD") != "" {
		if os.Getenv("ACTIVATION_CHILD") == "self" {
			os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
		}
		ln, err := Listener()
		switch {
		case err != nil:
			fmt.Printf("error %v", err)
		case ln == nil:
			fmt.Print("none")
		default:
			fmt.Printf("listener %s env=%q", ln.Addr(), os.Getenv("LISTEN_FDS"))
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(t *testing.T, mode, addr string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append([]string{"ACTIVATION_CHILD=" + mode}, env...)...)
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		defer ln.Close()
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.ExtraFiles = []*os.File{f} // becomes descriptor 3
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestInheritedLoopbackListener(t *testing.T) {
	out := child(t, "self", "127.0.0.1:0", "LISTEN_FDS=1")
	if !strings.HasPrefix(out, "listener 127.0.0.1:") || !strings.HasSuffix(out, `env=""`) {
		t.Fatalf("got %q", out)
	}
}

func TestNonLoopbackSocketIsRefused(t *testing.T) {
	out := child(t, "self", "0.0.0.0:0", "LISTEN_FDS=1")
	if !strings.HasPrefix(out, "error ") || !strings.Contains(out, "loopback") {
		t.Fatalf("got %q", out)
	}
}

func TestSocketsForAnotherProcessAreLeftAlone(t *testing.T) {
	out := child(t, "other", "127.0.0.1:0", "LISTEN_FDS=1", "LISTEN_PID=1")
	if out != "none" {
		t.Fatalf("got %q", out)
	}
}

func TestNothingHandedOver(t *testing.T) {
	if out := child(t, "self", ""); out != "none" {
		t.Fatalf("got %q", out)
	}
}

func TestMalformedAndTooManyAreErrors(t *testing.T) {
	if out := child(t, "self", "", "LISTEN_FDS=x"); !strings.Contains(out, "LISTEN_FDS") {
		t.Fatalf("malformed: %q", out)
	}
	if out := child(t, "self", "", "LISTEN_FDS=2"); !strings.Contains(out, "more than one") {
		t.Fatalf("two: %q", out)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	if err := checkLoopback(ln); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("got %v", err)
	}
}
