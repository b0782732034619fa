//go:build windows

package rundir

import (
	"fmt"
	"os"
	"path/filepath"
)

func platformDir(getenv func(string) string) string {
	if x := getenv("LOCALAPPDATA"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, Name, "run")
	}
	return ""
}

// checkOwner on Windows: %LOCALAPPDATA% is private to the user by default
// ACL. Verifying and setting an ACL for the user alone is not implemented
// yet; the directory is checked to be a plain directory (Check rejects
// reparse points reported as symbolic links).
func checkOwner(dir string, fi os.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s", ErrNotDir, dir)
	}
	return nil
}

func fixNew(string) error { return nil }
