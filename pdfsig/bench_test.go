package pdfsig

import (
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"

	"github.com/mynakit/mynakit/trust"
)

// pdf20MB is a one-page PDF whose page draws a 20 MB uncompressed image.
func pdf20MB(b *testing.B) []byte {
	img := make([]byte, 20<<20)
	rand.Read(img)
	for i := range img { // keep "endstream" out of the data
		if img[i] == 'e' {
			img[i] = 'f'
		}
	}
	return mkpdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im 5 0 R >> >> >>",
		"<< /Length 32 >>\nstream\nq 595 0 0 842 0 0 cm /Im Do Q   \nendstream",
		fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width 2560 /Height 2730 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream", len(img), img),
	}, "")
}

// measure runs f b.N times and reports the bytes it allocates per run:
// an upper bound of the memory it needs beyond the file (already in
// memory).
func measure(b *testing.B, f func()) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MiB-alloc/op")
}

// BenchmarkSign20MB: signing a 20 MB PDF with a software key (card time
// excluded): parse, update, hash of the byte ranges, CMS.
func BenchmarkSign20MB(b *testing.B) {
	src := pdf20MB(b)
	p := testPKI(b)
	measure(b, func() {
		if _, err := Sign(src, p.leafKey, p.cert, nil, SignOptions{}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkVerify20MB: verifying it (file already in memory).
func BenchmarkVerify20MB(b *testing.B) {
	p := testPKI(b)
	signed, err := Sign(pdf20MB(b), p.leafKey, p.cert, nil, SignOptions{})
	if err != nil {
		b.Fatal(err)
	}
	store := p.store()
	measure(b, func() {
		res, err := Verify(signed, VerifyOptions{Store: store})
		if err != nil || res.Verdict != trust.Genuine {
			b.Fatal(err, res.Verdict)
		}
	})
}
