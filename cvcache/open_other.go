//go:build !unix

package cvcache

// openFlags: elsewhere the file is checked with Lstat before and Stat
// after opening (same file, regular).
const openFlags = 0
