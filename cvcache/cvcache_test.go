package cvcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mynakit/mynakit/cardap"
)

// FuzzOpen: the cache file is input mynakit did not necessarily
// write. Whatever it holds, Open never panics and holds at most
// cardap.MaxCVCacheEntries certificates, each of which parses.
func FuzzOpen(f *testing.F) {
	f.Add([]byte(`{"format":"mynakit-cv-cache/2","entries":[{"certificate":"7f21","sha256":"00"}]}`))
	f.Add([]byte(`{"format":"mynakit-cv-cache/1","certificates":["7f21"]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "cv.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Open(path)
		if err != nil {
			return
		}
		if c.Len() > cardap.MaxCVCacheEntries {
			t.Fatalf("%d entries", c.Len())
		}
	})
}

// BenchmarkOpen: loading a full cache file (cardap.MaxCVCacheEntries
// entries of one certificate's size, each checksummed).
func BenchmarkOpen(b *testing.B) {
	var f file
	f.Format = format
	raw := make([]byte, 568)
	raw[0], raw[1] = 0x7F, 0x21
	for i := 0; i < cardap.MaxCVCacheEntries; i++ {
		raw[10], raw[11] = byte(i>>8), byte(i)
		sum := sha256.Sum256(raw)
		f.Entries = append(f.Entries, entry{Certificate: hex.EncodeToString(raw), SHA256: hex.EncodeToString(sum[:])})
	}
	data, _ := json.Marshal(f)
	path := filepath.Join(b.TempDir(), "cv.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(path); err != nil {
			b.Fatal(err)
		}
	}
}
