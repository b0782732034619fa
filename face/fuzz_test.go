package face

import (
	"testing"
)

// FuzzDecode: any input gives an image within the cap or an error, never a
// panic.
func FuzzDecode(f *testing.F) {
	f.Add(readTestdata(f, simulatorPhoto))
	f.Add(readTestdata(f, "lossy-97-r20.jp2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decode(b)
		if err != nil {
			return
		}
		r := img.Bounds()
		if r.Dx() > MaxDimension || r.Dy() > MaxDimension || r.Dx()*r.Dy() > MaxPixels {
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
