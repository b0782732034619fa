//go:build !unix

package cardap

// cacheOpenFlags: elsewhere the file is checked with Lstat before and
// Stat after opening (same file, regular).
const cacheOpenFlags = 0
