package cardap

import (
	"bytes"
	"context"
	"sync"

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
// passes. The file it may be kept in (package cvcache) therefore needs no
// protection for soundness: a changed file can only make certificates fail
// their check. For availability, each entry there carries a SHA-256
// checksum (a damaged entry is dropped on load), and a read that fails
// against a cached certificate falls back to the card's own EF 0004 and
// drops an entry that differs from it (VerifyTextCached, VerifySurfaceCached): a
// damaged entry costs one slower read, never a later card's verdict.
type CVCache struct {
	mu    sync.Mutex
	certs map[string]*CVCertificate // by the first CVHeaderLen bytes of the 7F21 form
	store CVCacheStore              // nil when kept in memory only
}

// NewCVCache is an empty cache kept in memory.
func NewCVCache() *CVCache { return &CVCache{certs: map[string]*CVCertificate{}} }

// MaxCVCacheEntries bounds the certificates a cache holds: Japan has
// about 1,750 municipalities with two applet certificates each.
const MaxCVCacheEntries = 4096

// CVCacheStore keeps a cache's certificates beyond the process (package
// cvcache keeps them in a file). Save is given every certificate the
// cache holds, each in its 7F21 form, whenever the set changes; it runs
// under the cache's lock, so saves never interleave.
type CVCacheStore interface {
	Save(certs [][]byte) error
}

// NewStoredCVCache is a cache that starts with certs (certificates in the
// 7F21 form, as a CVCacheStore saved them) and saves to store on every
// change. A certificate that does not parse, or parses to other bytes, is
// left out, and at most MaxCVCacheEntries are kept. Nothing is trusted for
// being in certs: each certificate is verified again every time it is
// used.
func NewStoredCVCache(certs [][]byte, store CVCacheStore) *CVCache {
	c := NewCVCache()
	c.store = store
	for _, raw := range certs {
		if len(c.certs) >= MaxCVCacheEntries {
			break
		}
		if cv, err := ParseCVCertificate(raw); err == nil && len(cv.Raw) >= CVHeaderLen && bytes.Equal(cv.Raw, raw) {
			c.certs[string(cv.Raw[:CVHeaderLen])] = cv
		}
	}
	return c
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
// else), and saves the set when the cache has a store.
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
// (one that failed a read), and saves the set when the cache has a store.
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
	if c.store == nil {
		return nil
	}
	certs := make([][]byte, 0, len(c.certs))
	for _, v := range c.certs {
		certs = append(certs, v.Raw)
	}
	return c.store.Save(certs)
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
