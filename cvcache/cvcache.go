// Package cvcache keeps a cardap.CVCache in a file, so a counter PC need
// not read each municipality's applet certificates again after a restart.
//
// The file is JSON: a format name and each certificate (hex of its 7F21
// form) with the SHA-256 of its bytes. It needs no protection for
// soundness, since every certificate is verified again each time it is
// used (cardap.CVCache says why); the checksums, the size limit and the
// regular-file rule are for availability and bounded work: a damaged
// entry is dropped on load, and a path that names a link, a FIFO, a device,
// a directory or a file over MaxFile is refused (ErrFile) without reading.
package cvcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/internal/atomicfile"
)

// MaxFile bounds the file read (a hostile or damaged file is never read
// whole): cardap.MaxCVCacheEntries entries of some 1.2 KB each fit.
const MaxFile = 8 << 20

// ErrFile: the cache path names something other than a regular file (a
// symbolic link, a FIFO, a device, a directory) or a file larger than
// MaxFile. Nothing is read from it.
var ErrFile = errors.New("CV certificate cache: not a regular file of at most 8 MiB")

// format names the file form; a file of another format is an empty cache.
const format = "mynakit-cv-cache/2"

// file is the file form: each certificate with the SHA-256 of its bytes,
// so an entry changed on disk (a flipped bit, a half-written file) is
// dropped when the file is loaded instead of failing every card of its
// municipality.
type file struct {
	Format  string  `json:"format"`
	Entries []entry `json:"entries"`
}

type entry struct {
	Certificate string `json:"certificate"` // hex of the 7F21 object
	SHA256      string `json:"sha256"`      // hex of SHA-256 of those bytes
}

// Open is a cache kept in the file at path, loaded with what the file
// holds (a missing file is an empty cache) and rewritten on every change.
// The file is read only when it is a regular file of at most MaxFile
// bytes, opened without following a symbolic link (ErrFile otherwise).
// Entries that do not parse or whose checksum does not match are dropped;
// a file in an older format is an empty cache, rewritten on the next Add.
func Open(path string) (*cardap.CVCache, error) {
	b, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cardap.NewStoredCVCache(nil, store(path)), nil
	}
	if err != nil {
		return nil, err
	}
	return cardap.NewStoredCVCache(decode(b), store(path)), nil
}

// decode is the certificates of a file whose checksums match; a file that
// is not one (bad JSON, another format) holds none.
func decode(b []byte) [][]byte {
	var f file
	if err := json.Unmarshal(b, &f); err != nil || f.Format != format {
		return nil // an unreadable cache is an empty one; it is rewritten
	}
	var certs [][]byte
	for _, e := range f.Entries {
		if len(certs) >= cardap.MaxCVCacheEntries {
			break
		}
		raw, err := hex.DecodeString(e.Certificate)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(raw)
		if want, err := hex.DecodeString(e.SHA256); err != nil || !bytes.Equal(want, sum[:]) {
			continue // changed since it was written
		}
		certs = append(certs, raw)
	}
	return certs
}

// store writes the cache's certificates to its file.
type store string

func (s store) Save(certs [][]byte) error {
	f := file{Format: format, Entries: []entry{}}
	for _, raw := range certs {
		sum := sha256.Sum256(raw)
		f.Entries = append(f.Entries, entry{Certificate: hex.EncodeToString(raw), SHA256: hex.EncodeToString(sum[:])})
	}
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	path := string(s)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("CV certificate cache: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), atomicfile.Private); err != nil {
		return fmt.Errorf("CV certificate cache: %w", err)
	}
	return nil
}

// readFile reads path if it is a regular file of at most MaxFile bytes:
// Lstat first (no link, no special file), then an open that follows no
// link and never blocks, then Fstat of what was opened (regular, the same
// file, still small enough), then a bounded read.
func readFile(path string) ([]byte, error) {
	before, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("CV certificate cache: %w", err)
	}
	if !before.Mode().IsRegular() || before.Size() > MaxFile {
		return nil, ErrFile
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFile, err)
	}
	defer f.Close()
	after, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("CV certificate cache: %w", err)
	}
	if !after.Mode().IsRegular() || !os.SameFile(before, after) || after.Size() > MaxFile {
		return nil, ErrFile
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("CV certificate cache: %w", err)
	}
	if len(b) > MaxFile {
		return nil, ErrFile
	}
	return b, nil
}

// DefaultPath is the cache file under the user's cache directory.
func DefaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "mynakit", "cv-certificates.json"), nil
}
