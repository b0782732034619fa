//go:build !unix

package atomicfile

// oNoFollow is not needed where O_EXCL alone refuses an existing link
// (Windows: CreateFile with CREATE_NEW fails on any existing name,
// reparse points included).
const oNoFollow = 0
