//go:build unix

package cvcache

import "syscall"

// openFlags make opening the cache file fail on a symbolic link in its
// last component, and never block on a FIFO put in its place.
const openFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
