//go:build !unix

package oqs

// Without O_NOFOLLOW and O_NONBLOCK (Windows), readRegular still refuses
// what lstat shows is not a regular file, and a file swapped in between
// lstat and open fails the same-file check after it is opened.
const (
	oNoFollow = 0
	oNonblock = 0
)
