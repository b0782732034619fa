package cardap

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
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
// passes. The file it may be kept in (Open) therefore needs no protection:
// a changed file can only make certificates fail their check.
type CVCache struct {
	mu    sync.Mutex
	certs map[string]*CVCertificate // by the first CVHeaderLen bytes of the 7F21 form
	path  string                    // "" when kept in memory only
}

// NewCVCache is an empty cache kept in memory.
func NewCVCache() *CVCache { return &CVCache{certs: map[string]*CVCertificate{}} }

// cvCacheFile is the file form.
type cvCacheFile struct {
	Format       string   `json:"format"`
	Certificates []string `json:"certificates"` // hex of the 7F21 objects
}

const cvCacheFormat = "mynakit-cv-cache/1"

// OpenCVCache keeps the cache in the file at path too, loading what it
// holds (a missing file is an empty cache). Entries that do not parse are
// dropped.
func OpenCVCache(path string) (*CVCache, error) {
	c := NewCVCache()
	c.path = path
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("CV certificate cache: %w", err)
	}
	var f cvCacheFile
	if err := json.Unmarshal(b, &f); err != nil || f.Format != cvCacheFormat {
		return c, nil // an unreadable cache is an empty one; it is rewritten
	}
	for _, h := range f.Certificates {
		raw, err := hex.DecodeString(h)
		if err != nil {
			continue
		}
		if cv, err := ParseCVCertificate(raw); err == nil && len(cv.Raw) >= CVHeaderLen {
			c.certs[string(cv.Raw[:CVHeaderLen])] = cv
		}
	}
	return c, nil
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
	c.certs[key] = cv
	if c.path == "" {
		return nil
	}
	f := cvCacheFile{Format: cvCacheFormat}
	for _, v := range c.certs {
		f.Certificates = append(f.Certificates, hex.EncodeToString(v.Raw))
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
func readCV(ctx context.Context, sess *pin.Session, a myna.Applet, cache *CVCache, faults *[]Fault) (b []byte, cached bool, err error) {
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
