package jpki

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mynakit/mynakit/trust"
)

// FuzzVerifyCMS: a signature file is hostile input. Whatever it holds,
// VerifyCMS returns an error or a result, never panics, and never calls a
// signature by a key no anchor knows genuine. Seeds:
// testdata/fuzz/FuzzVerifyCMS (a SHA-256 signature of "seed\n" by a
// throwaway key, written by TestWriteCMSSeeds).
func FuzzVerifyCMS(f *testing.F) {
	h := newHierarchy(f)
	f.Add([]byte("seed\n"), []byte{0x30, 0x03, 0x06, 0x01, 0x00})
	store := h.store()
	now := time.Now()
	f.Fuzz(func(t *testing.T, content, sig []byte) {
		res, err := VerifyCMS(content, sig, CMSOptions{Store: store, Now: now})
		if err != nil {
			return
		}
		if res.Verdict == trust.Genuine {
			t.Fatalf("a signature by a key no anchor in the store knows was judged genuine")
		}
		_, _ = VerifyCMS(content, sig, CMSOptions{Store: trust.Embedded(), Now: now, AllowSHA1: true})
	})
}

// TestWriteCMSSeeds keeps the fuzz seeds: real signatures, made once with
// MYNAKIT_WRITE_SEEDS=1.
func TestWriteCMSSeeds(t *testing.T) {
	if os.Getenv("MYNAKIT_WRITE_SEEDS") == "" {
		t.Skip("set MYNAKIT_WRITE_SEEDS=1 to rewrite the seeds")
	}
	h := newHierarchy(t)
	sig, err := SignCMS([]byte("seed\n"), h.key, h.leaf, nil, h.root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzVerifyCMS")
	os.MkdirAll(dir, 0o755)
	corpus := "go test fuzz v1\n[]byte(\"seed\\n\")\n[]byte(" + quote(sig) + ")\n"
	if err := os.WriteFile(filepath.Join(dir, "sha256"), []byte(corpus), 0o644); err != nil {
		t.Fatal(err)
	}
}

func quote(b []byte) string {
	out := []byte{'"'}
	for _, c := range b {
		out = append(out, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
	}
	return string(append(out, '"'))
}

// BenchmarkVerifyCMS: one detached SHA-256 signature over 1 MiB, its
// signer chain and no timestamp.
func BenchmarkVerifyCMS(b *testing.B) {
	h := newHierarchy(b)
	content := make([]byte, 1<<20)
	sig, err := SignCMS(content, h.key, h.leaf, nil, h.root)
	if err != nil {
		b.Fatal(err)
	}
	store := h.store()
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := VerifyCMS(content, sig, CMSOptions{Store: store}); err != nil || res.Verdict != trust.Genuine {
			b.Fatal(res.Verdict, err)
		}
	}
}
