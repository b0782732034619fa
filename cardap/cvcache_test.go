package cardap

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenCVCache: the cache file is input mynakit did not necessarily
// write. Whatever it holds, OpenCVCache never panics and holds at most
// MaxCVCacheEntries certificates, each of which parses.
func FuzzOpenCVCache(f *testing.F) {
	f.Add([]byte(`{"format":"mynakit-cv-cache/2","entries":[{"certificate":"7f21","sha256":"00"}]}`))
	f.Add([]byte(`{"format":"mynakit-cv-cache/1","certificates":["7f21"]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "cv.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := OpenCVCache(path)
		if err != nil {
			return
		}
		if c.Len() > MaxCVCacheEntries {
			t.Fatalf("%d entries", c.Len())
		}
	})
}

// BenchmarkOpenCVCache: loading a full cache file (MaxCVCacheEntries
// entries of one certificate's size, each checksummed).
func BenchmarkOpenCVCache(b *testing.B) {
	var f cvCacheFile
	f.Format = cvCacheFormat
	raw := make([]byte, 568)
	raw[0], raw[1] = 0x7F, 0x21
	for i := 0; i < MaxCVCacheEntries; i++ {
		raw[10], raw[11] = byte(i>>8), byte(i)
		sum := sha256.Sum256(raw)
		f.Entries = append(f.Entries, cvCacheEntry{Certificate: hex.EncodeToString(raw), SHA256: hex.EncodeToString(sum[:])})
	}
	data, _ := json.Marshal(f)
	path := filepath.Join(b.TempDir(), "cv.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenCVCache(path); err != nil {
			b.Fatal(err)
		}
	}
}
