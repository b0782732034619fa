//go:build unix

package cardap

import "syscall"

// cacheOpenFlags make opening the cache file fail on a symbolic link in
// its last component, and never block on a FIFO put in its place.
const cacheOpenFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
