package oqs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Files on the terminal's share are hostile input: another program (or a
// person) can put a FIFO, a device or a symbolic link where a result is
// expected, and an SMB share can hang. So every read takes regular files
// only (lstat, open with O_NOFOLLOW|O_NONBLOCK, fstat, and the opened file
// must be the one looked at), up to a size cap, and every file operation
// runs under a deadline: the call runs in a goroutine, and on the deadline
// (or when ctx ends) it is abandoned and a *FileTimeoutError returned. An
// abandoned call finishes, or hangs, on its own; at most maxAbandoned hang
// at once, after which further operations fail at once instead of piling up.

// DefaultFileTimeout bounds one file operation on the share.
const DefaultFileTimeout = 10 * time.Second

var (
	// ErrNotRegular is returned for a name that is not a regular file: a
	// symbolic link (never followed), a FIFO, a device, a folder.
	ErrNotRegular = errors.New("oqs: not a regular file")
	// ErrFileTimeout is matched by a *FileTimeoutError.
	ErrFileTimeout = errors.New("oqs: file operation timed out")
)

// FileTimeoutError says a file operation on the share did not finish in
// time (a hung share); the operation was abandoned.
type FileTimeoutError struct {
	Op, Path string
	After    time.Duration
	// Saturated: no operation was tried, because too many earlier ones
	// still hang.
	Saturated bool
}

func (e *FileTimeoutError) Error() string {
	if e.Saturated {
		return fmt.Sprintf("oqs: %s %s: not tried: %d earlier file operations on the share still hang", e.Op, e.Path, maxAbandoned)
	}
	return fmt.Sprintf("oqs: %s %s: no answer after %s (the share hangs?); abandoned", e.Op, e.Path, e.After.Round(time.Millisecond))
}

// Is makes errors.Is(err, ErrFileTimeout) true.
func (e *FileTimeoutError) Is(target error) bool { return target == ErrFileTimeout }

// maxAbandoned bounds the goroutines left behind in hung file operations.
const maxAbandoned = 16

var abandoned atomic.Int32

// fileOp runs op with a deadline of d (0: DefaultFileTimeout) and ctx.
func fileOp[T any](ctx context.Context, d time.Duration, what, path string, op func() (T, error)) (T, error) {
	var zero T
	if d <= 0 {
		d = DefaultFileTimeout
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if abandoned.Load() >= maxAbandoned {
		return zero, &FileTimeoutError{Op: what, Path: path, Saturated: true}
	}
	type result struct {
		v   T
		err error
	}
	var mu sync.Mutex
	done, gaveUp := false, false
	ch := make(chan result, 1)
	go func() {
		v, err := op()
		mu.Lock()
		done = true
		if gaveUp {
			abandoned.Add(-1)
		}
		mu.Unlock()
		ch <- result{v, err}
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	var err error
	select {
	case r := <-ch:
		return r.v, r.err
	case <-timer.C:
		err = &FileTimeoutError{Op: what, Path: path, After: d}
	case <-ctx.Done():
		err = ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	if done { // finished just now: take its answer
		r := <-ch
		return r.v, r.err
	}
	gaveUp = true
	abandoned.Add(1)
	return zero, err
}

// readRegular reads a regular file whole, refusing one larger than max
// and anything that is not a regular file. The file is opened, read and
// closed at once so another program can move it.
func readRegular(path string, max int) ([]byte, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, notRegular(path, before.Mode())
	}
	if before.Size() > int64(max) {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than %d", path, ErrTooLarge, before.Size(), max)
	}
	// O_NONBLOCK: a FIFO swapped in after the lstat opens at once (and is
	// refused below) instead of waiting for a writer for ever.
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow|oNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	after, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !after.Mode().IsRegular() {
		return nil, notRegular(path, after.Mode())
	}
	if !os.SameFile(before, after) {
		return nil, fmt.Errorf("%s: %w: it was replaced while being opened", path, ErrNotRegular)
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, max)
	}
	return b, nil
}

func notRegular(path string, m fs.FileMode) error {
	what := "a special file"
	switch {
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link (not followed)"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case m.IsDir():
		what = "a folder"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%s: %w: it is %s", path, ErrNotRegular, what)
}

// readCapped is readRegular under a deadline.
func readCapped(ctx context.Context, d time.Duration, path string, max int) ([]byte, error) {
	return fileOp(ctx, d, "read", path, func() ([]byte, error) {
		if h := testHang.Load(); h != nil {
			(*h)(path)
		}
		return readRegular(path, max)
	})
}

// testHang, set by tests only, runs before each read: a hung share.
var testHang atomic.Pointer[func(path string)]

// readFirst reads the first of paths that exists.
func readFirst(ctx context.Context, d time.Duration, paths []string, max int) ([]byte, string, error) {
	for _, p := range paths {
		b, err := readCapped(ctx, d, p, max)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return b, p, err
	}
	return nil, "", fs.ErrNotExist
}

// exists reports whether anything (a link included) has this name.
func exists(ctx context.Context, d time.Duration, path string) (bool, error) {
	return fileOp(ctx, d, "look up", path, func() (bool, error) {
		_, err := os.Lstat(path)
		if err == nil {
			return true, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	})
}

// readDir lists a folder under a deadline.
func readDir(ctx context.Context, d time.Duration, dir string) ([]os.DirEntry, error) {
	return fileOp(ctx, d, "list", dir, func() ([]os.DirEntry, error) { return os.ReadDir(dir) })
}

// isDir says whether dir is a folder (a link to one is followed: the share
// root's folders may be mounts), under a deadline.
func isDir(ctx context.Context, d time.Duration, dir string) error {
	_, err := fileOp(ctx, d, "look up", dir, func() (struct{}, error) {
		fi, err := os.Stat(dir)
		if err != nil {
			return struct{}{}, err
		}
		if !fi.IsDir() {
			return struct{}{}, fmt.Errorf("%s: not a folder", dir)
		}
		return struct{}{}, nil
	})
	return err
}

// ReadShareFile reads a file from a share the way every read here does: a
// regular file only (never through a link, never a FIFO or device), at
// most max bytes (0: DefaultMaxFileSize), under a deadline of timeout (0:
// DefaultFileTimeout) and ctx. Errors match ErrNotRegular, ErrTooLarge,
// ErrFileTimeout or fs.ErrNotExist.
func ReadShareFile(ctx context.Context, path string, max int, timeout time.Duration) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	return readCapped(ctx, timeout, path, max)
}
