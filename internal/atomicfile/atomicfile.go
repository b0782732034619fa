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
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(path)
	return nil
}

// WriteNew writes data to path, which must not exist yet: the whole file
// appears at once (a temporary file, synced, then hard-linked into place),
// or the error is fs.ErrExist and nothing changed. Two processes creating
// one name never mix their contents: each writes its own temporary file.
func WriteNew(path string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	err = os.Link(tmp, path)
	os.Remove(tmp)
	if err != nil {
		return err
	}
	syncDir(path)
	return nil
}

// writeTemp writes data, synced and with mode perm, to a new temporary file
// beside path (created exclusively, so no link is followed) and returns
// its name.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return "", err
	}
	err = tmp.Chmod(perm)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// syncDir flushes the directory entry of path where the platform allows it.
func syncDir(path string) {
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
