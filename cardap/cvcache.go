package cardap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

// CVHeaderLen is how much of an applet's EF 0004 names its certificate:
// the 7F21 and 5F4E headers (10 bytes), then the issuer key ID (CAR, 16)
// and the subject key ID (CHR, 16) at the start of the body (card
// reference §5.4).
const CVHeaderLen = 10 + 16 + 16

// CVCache remembers card-verifiable certificates that verified under a
// J-LIS key, so that a reader need not read an applet's EF 0004 past its
// first CVHeaderLen bytes when they name a certificate it already holds.
// Every card of one municipality carries the same applet certificates, so
// a counter PC that sees that municipality's cards all day saves 526 bytes
// per applet per card — about half a second per card on a contact reader
// at the default rate.
//
// Why this is sound. A certificate only enters the cache after it verified
// under the J-LIS key of its role, and it is verified again, against the
// trust store of the read, every time it is used. When a card's EF 0004
// starts with the same bytes, the reader verifies the card's signed records
// with the cached certificate's key instead of the key the card's file
// holds. Those records verify only if they were signed by the private key
// that J-LIS certified in the cached certificate:
//   - a card whose EF 0004 is byte for byte the cached one changes nothing;
//   - a card whose EF 0004 differs after the header (a certificate forged to
//     reuse the names, or any other bytes) is never read past the header,
//     and its records, signed by any other key, fail against the cached key;
//   - a card whose records verify under the cached key holds records J-LIS's
//     certified applet key signed, which is all a CV certificate proves.
//
// So the cache can turn a certificate the reader would have rejected into
// one it does not look at, but never a record that fails into one that
// passes. The file it may be kept in (OpenCVCache) therefore needs no
// protection for soundness: a changed file can only make certificates fail
// their check. For availability, each entry carries a SHA-256 checksum (a
// damaged entry is dropped on load), and a read that fails against a
// cached certificate falls back to the card's own EF 0004 and drops an
// entry that differs from it (VerifyTextCached, VerifySurfaceCached): a
// damaged entry costs one slower read, never a later card's verdict.
type CVCache struct {
	mu    sync.Mutex
	certs map[string]*CVCertificate // by the first CVHeaderLen bytes of the 7F21 form
	path  string                    // "" when kept in memory only
}

// NewCVCache is an empty cache kept in memory.
func NewCVCache() *CVCache { return &CVCache{certs: map[string]*CVCertificate{}} }

// cvCacheFile is the file form: each certificate with the SHA-256 of its
// bytes, so an entry changed on disk (a flipped bit, a half-written file)
// is dropped when the file is loaded instead of failing every card of its
// municipality.
type cvCacheFile struct {
	Format  string         `json:"format"`
	Entries []cvCacheEntry `json:"entries"`
}

type cvCacheEntry struct {
	Certificate string `json:"certificate"` // hex of the 7F21 object
	SHA256      string `json:"sha256"`      // hex of SHA-256 of those bytes
}

const cvCacheFormat = "mynakit-cv-cache/2"

// MaxCVCacheFile bounds the cache file read (a hostile or damaged file is
// never read whole), and MaxCVCacheEntries the certificates held: Japan
// has about 1,750 municipalities with two applet certificates each, each
// entry some 1.2 KB in the file.
const (
	MaxCVCacheFile    = 8 << 20
	MaxCVCacheEntries = 4096
)

// ErrCVCacheFile: the cache path names something other than a regular
// file (a symbolic link, a FIFO, a device, a directory) or a file larger
// than MaxCVCacheFile. Nothing is read from it.
var ErrCVCacheFile = errors.New("CV certificate cache: not a regular file of at most 8 MiB")

// OpenCVCache keeps the cache in the file at path too, loading what it
// holds (a missing file is an empty cache). The file is read only when it
// is a regular file of at most MaxCVCacheFile bytes, opened without
// following a symbolic link (ErrCVCacheFile otherwise). Entries that do not
// parse or whose checksum does not match are dropped; a file in an older
// format is an empty cache, rewritten on the next Add.
func OpenCVCache(path string) (*CVCache, error) {
	c := NewCVCache()
	c.path = path
	b, err := readCacheFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	var f cvCacheFile
	if err := json.Unmarshal(b, &f); err != nil || f.Format != cvCacheFormat {
		return c, nil // an unreadable cache is an empty one; it is rewritten
	}
	for _, e := range f.Entries {
		if len(c.certs) >= MaxCVCacheEntries {
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
		if cv, err := ParseCVCertificate(raw); err == nil && len(cv.Raw) >= CVHeaderLen && bytes.Equal(cv.Raw, raw) {
			c.certs[string(cv.Raw[:CVHeaderLen])] = cv
		}
	}
	return c, nil
}

// readCacheFile reads path if it is a regular file of at most
// MaxCVCacheFile bytes: Lstat first (no link, no special file), then an
// open that follows no link and never blocks, then Fstat of what was
// opened (regular, the same file, still small enough), then a bounded read.
func readCacheFile(path string) ([]byte, error) {
	before, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("CV certificate cache: %w", err)
	}
	if !before.Mode().IsRegular() || before.Size() > MaxCVCacheFile {
		return nil, ErrCVCacheFile
	}
	f, err := os.OpenFile(path, os.O_RDONLY|cacheOpenFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCVCacheFile, err)
	}
	defer f.Close()
	after, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("CV certificate cache: %w", err)
	}
	if !after.Mode().IsRegular() || !os.SameFile(before, after) || after.Size() > MaxCVCacheFile {
		return nil, ErrCVCacheFile
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxCVCacheFile+1))
	if err != nil {
		return nil, fmt.Errorf("CV certificate cache: %w", err)
	}
	if len(b) > MaxCVCacheFile {
		return nil, ErrCVCacheFile
	}
	return b, nil
}

// DefaultCVCachePath is the cache file under the user's cache directory.
func DefaultCVCachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "mynakit", "cv-certificates.json"), nil
}

// Lookup returns the cached certificate whose first CVHeaderLen bytes are
// head, or nil.
func (c *CVCache) Lookup(head []byte) *CVCertificate {
	if c == nil || len(head) < CVHeaderLen {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.certs[string(head[:CVHeaderLen])]
}

// Add remembers a certificate whose check passed (callers add nothing
// else), and rewrites the file when there is one.
func (c *CVCache) Add(cv *CVCertificate) error {
	if c == nil || cv == nil || len(cv.Raw) < CVHeaderLen || cv.Raw[0] != 0x7F {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := string(cv.Raw[:CVHeaderLen])
	if old := c.certs[key]; old != nil && bytes.Equal(old.Raw, cv.Raw) {
		return nil
	}
	if _, ok := c.certs[key]; !ok && len(c.certs) >= MaxCVCacheEntries {
		for k := range c.certs { // full: forget one (any) to make room
			delete(c.certs, k)
			break
		}
	}
	c.certs[key] = cv
	return c.saveLocked()
}

// Drop forgets the certificate whose first CVHeaderLen bytes are head
// (one that failed a read), and rewrites the file when there is one.
func (c *CVCache) Drop(head []byte) error {
	if c == nil || len(head) < CVHeaderLen {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := string(head[:CVHeaderLen])
	if _, ok := c.certs[key]; !ok {
		return nil
	}
	delete(c.certs, key)
	return c.saveLocked()
}

func (c *CVCache) saveLocked() error {
	if c.path == "" {
		return nil
	}
	f := cvCacheFile{Format: cvCacheFormat, Entries: []cvCacheEntry{}}
	for _, v := range c.certs {
		sum := sha256.Sum256(v.Raw)
		f.Entries = append(f.Entries, cvCacheEntry{Certificate: hex.EncodeToString(v.Raw), SHA256: hex.EncodeToString(sum[:])})
	}
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("CV certificate cache: %w", err)
	}
	if err := atomicfile.WriteFile(c.path, append(b, '\n'), atomicfile.Private); err != nil {
		return fmt.Errorf("CV certificate cache: %w", err)
	}
	return nil
}

// Len is the number of certificates held.
func (c *CVCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.certs)
}

// readCV reads an applet's EF 0004: with a cache, its first CVHeaderLen
// bytes, and the rest only when the cache holds no certificate they name.
// A bad answer from the card adds a Fault and gives no certificate.
func readCV(ctx context.Context, sess Session, a myna.Applet, cache *CVCache, faults *[]Fault) (b []byte, cached bool, err error) {
	if cache == nil {
		err = fetchAll(ctx, sess, a, []fileRead{{fid: 0x0004, dst: &b}}, faults)
		return b, false, err
	}
	head, err := sess.ReadBinary(ctx, a, 0x0004, 0, CVHeaderLen)
	if err == nil {
		if cv := cache.Lookup(head); cv != nil {
			return append([]byte(nil), cv.Raw...), true, nil
		}
		b, err = sess.ReadRest(ctx, a, 0x0004, head)
	}
	if err != nil {
		fault, err := asFault(a, 0x0004, err)
		if fault != nil {
			*faults = append(*faults, *fault)
		}
		return nil, false, err
	}
	return b, false, nil
}

// recheck is the fallback for a certificate that came from the cache: when
// any of the applet's checks did not pass, the card's own EF 0004 is read
// in full (the cache cannot be trusted to be right about it), and the
// entry is dropped when the card's certificate differs from it. again
// says the caller must verify once more with own (nil when the card
// answered badly; the fault is added). A card whose own certificate is the
// cached one byte for byte leaves the entry alone: the cache was not the
// cause.
func (c *CVCache) recheck(ctx context.Context, sess Session, a myna.Applet, used []byte, cached bool, checks []trust.Check, faults *[]Fault) (own []byte, again bool, err error) {
	if c == nil || !cached || len(used) < CVHeaderLen {
		return nil, false, nil
	}
	failed := false
	for _, ch := range checks {
		failed = failed || ch.Result != trust.Pass
	}
	if !failed {
		return nil, false, nil
	}
	own, _, err = readCV(ctx, sess, a, nil, faults)
	if err != nil {
		return nil, false, err
	}
	if own == nil {
		return nil, true, nil
	}
	if cv, perr := ParseCVCertificate(own); perr != nil || !bytes.Equal(cv.Raw, used) {
		_ = c.Drop(used) // a cache that cannot be written is only slower
	}
	return own, true, nil
}

// VerifyTextCached is VerifyText for a raw read with a cache: when the
// certificate came from the cache and a check did not pass, the card's own
// EF 0004 is read, a cache entry that differs from it is dropped, and the
// applet is verified again with the card's certificate. A damaged entry
// therefore costs one slower read, never a verdict.
func VerifyTextCached(ctx context.Context, sess Session, raw *TextRaw, store *trust.Store, cache *CVCache) (*Text, []trust.Check, error) {
	t, checks := VerifyText(*raw, store)
	own, again, err := cache.recheck(ctx, sess, myna.Text, raw.CVCert, raw.CVCached, checks, &raw.Faults)
	if err != nil || !again {
		return t, checks, err
	}
	raw.CVCert, raw.CVCached = own, false
	t, checks = VerifyText(*raw, store)
	return t, checks, nil
}

// VerifySurfaceCached is VerifySurface with VerifyTextCached's fallback.
func VerifySurfaceCached(ctx context.Context, sess Session, raw *SurfaceRaw, store *trust.Store, cache *CVCache) (*Surface, []trust.Check, error) {
	s, checks := VerifySurface(*raw, store)
	own, again, err := cache.recheck(ctx, sess, myna.Surface, raw.CVCert, raw.CVCached, checks, &raw.Faults)
	if err != nil || !again {
		return s, checks, err
	}
	raw.CVCert, raw.CVCached = own, false
	s, checks = VerifySurface(*raw, store)
	return s, checks, nil
}
