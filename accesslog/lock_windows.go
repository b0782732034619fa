//go:build windows

package accesslog

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock on one byte of f without waiting
// (LockFileEx); errLocked when another handle holds it. Closing the file,
// or the process ending, releases it. The byte is far beyond any real end
// of the log, because a locked range cannot be read by others and Verify
// must still read the log while the bridge writes it.
func lockFile(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: 0x7fffffff}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLocked
	}
	return err
}

const oNoFollow = 0
