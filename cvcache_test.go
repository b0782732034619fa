package mynakit_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/cvcache"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/trust"
)

func readWithCache(t *testing.T, img *simulator.Image, cache *cardap.CVCache) *mynakit.Report {
	t.Helper()
	c := simtest.Open(t, simtest.Sim(t, img), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN), CVCache: cache})
	r, err := c.Read(context.Background(), mynakit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A warm cache spares both applets' certificates past their headers, and
// changes no verdict.
func TestCVCacheSparesTheCertificates(t *testing.T) {
	none := readWithCache(t, simtest.Image(t), nil)
	cache := cardap.NewCVCache()
	cold := readWithCache(t, simtest.Image(t), cache)
	if cold.Verdict != trust.Genuine || cache.Len() != 2 {
		t.Fatalf("cold: %s, %d cached", cold.Verdict, cache.Len())
	}
	warm := readWithCache(t, simtest.Image(t), cache)
	if warm.Verdict != trust.Genuine {
		t.Fatalf("warm: %s", warm.Verdict)
	}
	saved := none.Stats.BytesReceived - warm.Stats.BytesReceived
	if saved != 2*(568-cardap.CVHeaderLen) {
		t.Fatalf("a warm cache saved %d bytes, want %d", saved, 2*(568-cardap.CVHeaderLen))
	}
	if c, _ := warm.Check(trust.CheckTextCV); !strings.Contains(c.Detail, "cache") {
		t.Errorf("the check does not say the certificate came from the cache: %q", c.Detail)
	}
}

// The soundness argument, tested: a card whose EF 0004 differs after the
// header still verifies — the cached key is what its records are checked
// with — and a card whose records were signed by any other key fails, even
// though its EF 0004 header names the cached certificate.
func TestCVCacheIsSound(t *testing.T) {
	cache := cardap.NewCVCache()
	readWithCache(t, simtest.Image(t), cache)

	// Same header, body changed after it: the body is never read.
	img := simtest.Image(t)
	cv := simtest.EF(t, img, myna.Text, myna.TextCVCert)
	for i := cardap.CVHeaderLen; i < 568; i++ {
		cv[i] ^= 0x5A
	}
	if r := readWithCache(t, img, cache); r.Verdict != trust.Genuine {
		t.Fatalf("EF 0004 changed after its header, records genuine: %s", r.Verdict)
	}
	// Without the cache the same card is not genuine: the certificate is read and fails.
	if r := readWithCache(t, img, nil); r.Verdict != trust.NotGenuine {
		t.Fatalf("without the cache: %s", r.Verdict)
	}

	// Records signed by another key under the cached certificate's name: a
	// forger who reuses the header of a certificate J-LIS issued.
	forged := simtest.Image(t)
	simtest.SetTextAttributes(t, forged, "偽物　太郎", "", "", "")
	integ := simtest.EF(t, forged, myna.Text, myna.TextIntegrity)
	off, n := simtest.Field(t, integ, 0xDF33)
	copy(integ[off:off+n], simtest.Sign(t, simtest.Key(t, "surface-ap"), integ[5:5+70])) // signed by another key
	r := readWithCache(t, forged, cache)
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("records signed by another key: %s", r.Verdict)
	}
	mustCheck(t, r, trust.CheckTextIntegrity, trust.Fail)
}

// The opt-in file keeps the cache across runs; a damaged file is an empty
// cache, never a reason to trust anything.
func TestCVCacheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mynakit", "cv.json")
	c1, err := cvcache.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	readWithCache(t, simtest.Image(t), c1)
	c2, err := cvcache.Open(path)
	if err != nil || c2.Len() != 2 {
		t.Fatalf("reopened: %d certificates, %v", c2.Len(), err)
	}
	// A certificate in the file is verified again on every use: one that
	// no anchor vouches for gives unknown, not genuine.
	c, err := mynakit.OpenTransport(plain{simtest.Sim(t, simtest.Image(t))}, "a reader", mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN), CVCache: c2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Read(context.Background(), mynakit.ReadOptions{})
	if err != nil || r.Verdict != trust.Undecided {
		t.Fatalf("cached certificates without their anchors: %v %s", err, r.Verdict)
	}
}

// Finding 5 of issue 14: one damaged cache entry must not fail a whole
// municipality for good. A byte flipped after the header in the file is
// caught by the entry's checksum; an entry that is wrong in memory (or
// whose checksum was rewritten with it) fails its read, which falls back to
// the card's own EF 0004 and replaces the entry. Either way the next card
// reads genuine.
func TestCVCacheDamagedEntryIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cv.json")
	c1, err := cvcache.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := readWithCache(t, simtest.Image(t), c1); r.Verdict != trust.Genuine || c1.Len() != 2 {
		t.Fatalf("cold: %s, %d cached", r.Verdict, c1.Len())
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	textCV := simtest.Object(t, simtest.EF(t, simtest.Image(t), myna.Text, myna.TextCVCert)).Raw

	// One byte of the text certificate flipped in the file, after the header.
	h := hex.EncodeToString(textCV)
	i := strings.Index(string(good), h)
	if i < 0 {
		t.Fatal("the text certificate is not in the file")
	}
	damaged := []byte(string(good))
	pos := i + 2*(cardap.CVHeaderLen+100)
	damaged[pos] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", damaged[pos])+1)%16]
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	c2, err := cvcache.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Len() != 1 {
		t.Fatalf("the damaged entry was loaded: %d entries", c2.Len())
	}
	if r := readWithCache(t, simtest.Image(t), c2); r.Verdict != trust.Genuine {
		t.Fatalf("after a damaged entry: %s", r.Verdict)
	}
	if cv := c2.Lookup(textCV); cv == nil || !bytes.Equal(cv.Raw, textCV) {
		t.Fatal("the entry was not replaced by the card's certificate")
	}

	// Damaged in memory: the read against it fails, falls back to the
	// card's EF 0004, and the entry is replaced.
	bad := append([]byte(nil), textCV...)
	bad[len(bad)-5] ^= 0x01 // in the certificate's signature, after the header
	cv, err := cardap.ParseCVCertificate(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Add(cv); err != nil {
		t.Fatal(err)
	}
	if got := c2.Lookup(textCV); got == nil || bytes.Equal(got.Raw, textCV) {
		t.Fatal("the damaged certificate is not what the cache holds")
	}
	r := readWithCache(t, simtest.Image(t), c2)
	if r.Verdict != trust.Genuine {
		t.Fatalf("with a damaged entry in memory: %s %v", r.Verdict, r.Checks)
	}
	if c, _ := r.Check(trust.CheckTextCV); strings.Contains(c.Detail, "cache") {
		t.Errorf("the passing check still rests on the cache: %q", c.Detail)
	}
	if got := c2.Lookup(textCV); got == nil || !bytes.Equal(got.Raw, textCV) {
		t.Fatal("the damaged entry was not replaced")
	}
	// And the file on disk holds the card's certificate again.
	c3, err := cvcache.Open(path)
	if err != nil || c3.Len() != 2 {
		t.Fatalf("reopened: %d, %v", c3.Len(), err)
	}
	if got := c3.Lookup(textCV); got == nil || !bytes.Equal(got.Raw, textCV) {
		t.Fatal("the file does not hold the card's certificate")
	}
}
