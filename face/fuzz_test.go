package face

import (
	"testing"
)

// fuzzLimits is a tighter cap than the default, so that each input decodes
// in milliseconds and the fuzzer explores the parsers rather than spending
// seconds on one large garbage picture (the default cap is tested by
// TestDecodeRefusesBeyondTheCapBeforeDecoding).
var fuzzLimits = Limits{Dimension: 256, Pixels: 256 * 256, Tiles: 64, Layers: 8}

// FuzzDecode: any input gives an image within the cap or an error, never a
// panic.
func FuzzDecode(f *testing.F) {
	f.Add(readTestdata(f, simulatorPhoto))
	f.Add(readTestdata(f, "lossy-97-r20.jp2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := fuzzLimits.Decode(b)
		if err != nil {
			return
		}
		r := img.Bounds()
		if r.Dx() > fuzzLimits.Dimension || r.Dy() > fuzzLimits.Dimension || r.Dx()*r.Dy() > fuzzLimits.Pixels {
			t.Fatalf("decoded %v, beyond the cap", r)
		}
	})
}

// FuzzCheckPNG: the card-face PNG checker accepts only pictures within its
// cap and never panics.
func FuzzCheckPNG(f *testing.F) {
	f.Add(samplePNG(f, 27, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, err := CheckPNG(b)
		if err != nil {
			return
		}
		if w < 1 || h < 1 || w > MaxPNGDimension || h > MaxPNGDimension {
			t.Fatalf("accepted %d×%d", w, h)
		}
	})
}
