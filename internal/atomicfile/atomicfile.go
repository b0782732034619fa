// Package atomicfile writes output files the safe way for data that holds
// personal information, and for folders other programs can write to (a
// clinic's shared folder): a new file with a fixed mode (never the mode of
// a file it replaces), created exclusively under an unpredictable name and
// never through a symbolic link, and atomically — a reader sees the old
// file or the whole new one, never half of it.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
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
// directory (see CreateTemp), synced, given mode perm, then renamed over
// path and the directory synced. An existing path must be a regular file;
// a symbolic link, a directory or a device is refused. (A link planted
// between the check and the rename is replaced, never written through:
// rename does not follow links.)
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

// TempPrefix starts the name of every temporary file made here, so other
// programs watching a folder can skip them (a leading dot hides them too).
const TempPrefix = ".mynakit-"

// CreateTemp creates a new file in dir for writing, with mode perm, under
// a name nobody can guess beforehand (TempPrefix, 128 bits from
// crypto/rand, ".tmp"). It is opened with O_CREATE|O_EXCL|O_NOFOLLOW, so
// whatever another program planted in dir — a file, or a symbolic link to
// a file elsewhere — is never opened or written: the call fails instead.
func CreateTemp(dir string, perm fs.FileMode) (*os.File, error) {
	if dir == "" {
		dir = "."
	}
	var last error
	for range 4 {
		var r [16]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, TempPrefix+hex.EncodeToString(r[:])+".tmp")
		f, err := openExclusive(name, perm)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		last = err // 2^-128: someone is choosing our names
	}
	return nil, last
}

// openExclusive creates name, failing if anything (a link included) is
// there already.
func openExclusive(name string, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
	if err != nil {
		return nil, err
	}
	// The mode asked for, whatever the umask made of it.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(name)
		return nil, err
	}
	return f, nil
}

// Publish puts data into dir under name for another program to take: it is
// written to a temporary file (CreateTemp), synced, then renamed to name,
// and the directory synced, so the reader never sees a partial file and
// nothing is written through a link planted in dir. An existing name is
// replaced (a link there is replaced, not followed).
func Publish(dir, name string, data []byte, perm fs.FileMode) error {
	tmp, err := writeTempIn(dir, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Join(dir, name))
	return nil
}

// writeTemp writes data, synced and with mode perm, to a new temporary file
// beside path and returns its name.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	return writeTempIn(filepath.Dir(path), data, perm)
}

func writeTempIn(dir string, data []byte, perm fs.FileMode) (string, error) {
	tmp, err := CreateTemp(dir, perm)
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(data)
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
