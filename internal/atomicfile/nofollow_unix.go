//go:build unix

package atomicfile

import "syscall"

// oNoFollow makes open fail on a symbolic link in the last component.
const oNoFollow = syscall.O_NOFOLLOW
