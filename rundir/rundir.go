// Package rundir finds and checks the per-user runtime directory where
// mynakit keeps what only the logged-in user may see: the bridge's launch
// secret and its Unix domain socket.
//
// The trust boundary is the OS user, as for ssh-agent: the directory must
// belong to the current user, must not be a symbolic link, and (on Unix)
// must have mode 0700 exactly. A directory that fails these checks is
// refused rather than repaired, since someone else may already have a
// handle on it.
package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Name is the directory's last path element on every platform.
const Name = "mynakit"

var (
	// ErrNoDir means no per-user location could be determined.
	ErrNoDir = errors.New("rundir: no per-user runtime directory")
	// ErrNotDir means the path exists but is not a directory.
	ErrNotDir = errors.New("rundir: not a directory")
	// ErrSymlink means the path is a symbolic link (or reparse point).
	ErrSymlink = errors.New("rundir: is a symbolic link")
	// ErrOwner means the directory belongs to another user.
	ErrOwner = errors.New("rundir: not owned by the current user")
	// ErrMode means the directory's permissions let others in.
	ErrMode = errors.New("rundir: mode is not 0700")
)

// Dir returns the per-user runtime directory for mynakit. It does not
// create it; see Ensure.
//
//   - Linux and other Unix: $XDG_RUNTIME_DIR/mynakit when XDG_RUNTIME_DIR is
//     set to an absolute path, otherwise <user cache dir>/mynakit/run
//     (for example ~/.cache/mynakit/run).
//   - Windows: %LOCALAPPDATA%\mynakit\run.
func Dir() (string, error) {
	return dir(os.Getenv)
}

func dir(getenv func(string) string) (string, error) {
	if d := platformDir(getenv); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil || cache == "" || !filepath.IsAbs(cache) {
		return "", fmt.Errorf("%w: %v", ErrNoDir, err)
	}
	return filepath.Join(cache, Name, "run"), nil
}

// Check verifies that dir is a directory (not a symbolic link) owned by the
// current user with mode 0700. The returned error wraps ErrNotDir,
// ErrSymlink, ErrOwner or ErrMode, or the error from Lstat.
func Check(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("rundir: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s", ErrSymlink, dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	return checkOwner(dir, fi)
}

// Ensure returns Dir, creating it with mode 0700 if it does not exist, and
// checks it with Check. An existing directory with the wrong owner or mode
// is an error, never silently repaired.
func Ensure() (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	return d, Make(d)
}

// Make creates dir (and missing parents, each 0700) if it does not exist
// and then checks it with Check.
func Make(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return fmt.Errorf("rundir: %w", err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("rundir: %w", err)
		}
		// The umask may only remove bits; make the mode exact for a
		// directory this process just created.
		if err := fixNew(dir); err != nil {
			return err
		}
	}
	return Check(dir)
}
