// Package atomicfile writes output files the safe way for data that holds
// personal information: a new file with a fixed mode (never the mode of a
// file it replaces), never through a symbolic link, and atomically — a
// reader sees the old file or the whole new one, never half of it.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrSymlink: the target is a symbolic link, which WriteFile does not follow.
var ErrSymlink = errors.New("refusing to write through a symbolic link")

// Private is the mode for files holding personal data.
const Private fs.FileMode = 0o600

// WriteFile writes data to path: into a new temporary file in the same
// directory (created exclusively, so no link is followed), synced, given
// mode perm, then renamed over path and the directory synced. An existing
// path must be a regular file; a symbolic link, a directory or a device is
// refused.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s: %w", path, ErrSymlink)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("%s: not a regular file", path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
