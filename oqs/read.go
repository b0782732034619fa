package oqs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// readCapped reads a whole file, refusing one larger than max. The file is
// opened, read and closed at once so another program can move it.
func readCapped(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, max)
	}
	return b, nil
}

// readFirst reads the first of paths that exists.
func readFirst(paths []string, max int) ([]byte, string, error) {
	for _, p := range paths {
		b, err := readCapped(p, max)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return b, p, err
	}
	return nil, "", fs.ErrNotExist
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}
