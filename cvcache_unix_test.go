//go:build unix

package mynakit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mynakit/mynakit/cvcache"
	"github.com/mynakit/mynakit/internal/simtest"
)

// Finding 10 of issue 14: the cache file is read only when it is a regular
// file of bounded size: never through a symbolic link, never a FIFO (which
// would block), never a file larger than cvcache.MaxFile.
func TestCVCacheFileMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	c, err := cvcache.Open(real)
	if err != nil {
		t.Fatal(err)
	}
	readWithCache(t, simtest.Image(t), c)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := cvcache.Open(link); !errors.Is(err, cvcache.ErrFile) {
		t.Errorf("symbolic link: %v", err)
	}
	if _, err := cvcache.Open(dir); !errors.Is(err, cvcache.ErrFile) {
		t.Errorf("directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		if _, err := cvcache.Open(fifo); !errors.Is(err, cvcache.ErrFile) {
			t.Errorf("FIFO: %v", err)
		}
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), cvcache.MaxFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cvcache.Open(big); !errors.Is(err, cvcache.ErrFile) {
		t.Errorf("oversized file: %v", err)
	}
	if c, err := cvcache.Open(real); err != nil || c.Len() != 2 {
		t.Errorf("regular file: %d, %v", c.Len(), err)
	}
}
