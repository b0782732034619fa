//go:build !unix && !windows

package rundir

import (
	"fmt"
	"os"
)

func platformDir(func(string) string) string { return "" }

func checkOwner(dir string, _ os.FileInfo) error {
	return fmt.Errorf("%w: ownership cannot be checked on this system: %s", ErrOwner, dir)
}

func fixNew(string) error { return nil }
