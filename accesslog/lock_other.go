//go:build !unix && !windows

package accesslog

import "os"

// lockFile does nothing on this system: one writer per log is not
// enforced here (a limitation; Unix and Windows enforce it).
func lockFile(*os.File) error { return nil }

const oNoFollow = 0
