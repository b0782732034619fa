//go:build unix

package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

func platformDir(getenv func(string) string) string {
	if x := getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, Name)
	}
	return ""
}

func checkOwner(dir string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: cannot read the owner of %s", ErrOwner, dir)
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("%w: %s belongs to uid %d, not %d", ErrOwner, dir, st.Uid, uid)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		return fmt.Errorf("%w: %s has mode %04o", ErrMode, dir, perm)
	}
	return nil
}

// fixNew sets the exact mode on a directory this process just created,
// after checking that it is still a directory of ours (not swapped for a
// link in between).
func fixNew(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s", ErrOwner, dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	return nil
}
