package vpcd

import (
	"context"
	"net"
	"path/filepath"
	"testing"
)

type pullable struct{ present bool }

func (f *pullable) Remove()       { f.present = false }
func (f *pullable) Insert()       { f.present = true }
func (f *pullable) Present() bool { return f.present }

func TestControlPullsAndInserts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("no Unix sockets: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	card := &pullable{present: true}
	go func() { _ = ServeControl(ctx, ln, card) }()
	for _, step := range []struct{ cmd, want string }{
		{CommandStatus, "present"}, {CommandPull, "absent"}, {CommandStatus, "absent"}, {CommandInsert, "present"},
	} {
		got, err := SendControl(ctx, path, step.cmd)
		if err != nil || got != step.want {
			t.Fatalf("%s: %q, %v; want %q", step.cmd, got, err, step.want)
		}
	}
	if _, err := SendControl(ctx, path, "explode"); err == nil {
		t.Fatal("an unknown command was accepted")
	}
}
