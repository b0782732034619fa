//go:build unix

package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirUsesXDGRuntimeDir(t *testing.T) {
	env := map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}
	got, err := dir(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got != "/run/user/1000/mynakit" {
		t.Fatalf("dir = %q", got)
	}
}

func TestDirFallsBackToTheCacheDir(t *testing.T) {
	for _, x := range []string{"", "relative/dir"} {
		env := map[string]string{"XDG_RUNTIME_DIR": x}
		got, err := dir(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		cache, _ := os.UserCacheDir()
		if got != filepath.Join(cache, "mynakit", "run") {
			t.Fatalf("XDG_RUNTIME_DIR=%q: dir = %q", x, got)
		}
	}
}

func TestMakeCreatesAPrivateDirectory(t *testing.T) {
	d := filepath.Join(t.TempDir(), "a", "mynakit")
	if err := Make(d); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(d)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %04o", fi.Mode().Perm())
	}
	if err := Check(d); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefuses(t *testing.T) {
	base := t.TempDir()

	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Check(open); !errors.Is(err, ErrMode) {
		t.Errorf("0755: %v, want ErrMode", err)
	}
	if err := Make(open); !errors.Is(err, ErrMode) {
		t.Errorf("Make must not repair an existing 0755 directory: %v", err)
	}

	good := filepath.Join(base, "good")
	if err := os.Mkdir(good, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if err := Check(link); !errors.Is(err, ErrSymlink) {
		t.Errorf("symlink: %v, want ErrSymlink", err)
	}

	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Check(file); !errors.Is(err, ErrNotDir) {
		t.Errorf("file: %v, want ErrNotDir", err)
	}

	if err := Check(filepath.Join(base, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v, want ErrNotExist", err)
	}
}

func TestCheckRefusesAnotherUsersDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	d := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := Check(d)
	if !errors.Is(err, ErrOwner) {
		t.Fatalf("%v, want ErrOwner", err)
	}
	if !strings.Contains(err.Error(), "65534") {
		t.Errorf("error does not name the owner: %v", err)
	}
}
