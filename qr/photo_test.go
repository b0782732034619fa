package qr

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWritePhoto makes testdata/age-photo.png, a stand-in for a phone photo
// of a printed age code, when MYNAKIT_WRITE_TESTDATA=1:
//
//	MYNAKIT_WRITE_TESTDATA=1 go test -run TestWritePhoto ./qr/
//
// The rendered code (7 pixels per module) is turned by 11 degrees, scaled
// to 80 %, seen slightly in perspective, lit unevenly, blurred by a 3×3 box
// and given Gaussian noise of σ 12 grey levels, on a grey table.
// Everything is seeded, so the file is reproducible.
func TestWritePhoto(t *testing.T) {
	if os.Getenv("MYNAKIT_WRITE_TESTDATA") == "" {
		t.Skip("set MYNAKIT_WRITE_TESTDATA=1 to regenerate testdata/age-photo.png")
	}
	q, err := code(ageCode(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.PNG(-7)
	if err != nil {
		t.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	sz := src.Bounds().Dx()
	out := photograph(src, sz, sz, rand.New(rand.NewSource(9)))
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "age-photo.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func photograph(src image.Image, w, h int, r *rand.Rand) *image.Gray {
	sb := src.Bounds()
	lum := func(x, y int) float64 {
		if x < sb.Min.X || y < sb.Min.Y || x >= sb.Max.X || y >= sb.Max.Y {
			return 105 // the table
		}
		return float64(color.GrayModel.Convert(src.At(x, y)).(color.Gray).Y)
	}
	bilinear := func(u, v float64) float64 {
		x0, y0 := math.Floor(u), math.Floor(v)
		fx, fy := u-x0, v-y0
		a, b := lum(int(x0), int(y0)), lum(int(x0)+1, int(y0))
		c, d := lum(int(x0), int(y0)+1), lum(int(x0)+1, int(y0)+1)
		return (a*(1-fx)+b*fx)*(1-fy) + (c*(1-fx)+d*fx)*fy
	}
	theta, scale := photoAngle*math.Pi/180, photoScale
	cx, cy := float64(w)/2, float64(h)/2
	ucx, ucy := float64(sb.Dx())/2, float64(sb.Dy())/2
	plane := make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			// A projective map: the top edge farther away than the bottom.
			k := 1 + photoPersp*dy - photoPersp/2*dx
			dx, dy = dx/k, dy/k
			u := (math.Cos(theta)*dx+math.Sin(theta)*dy)/scale + ucx
			v := (-math.Sin(theta)*dx+math.Cos(theta)*dy)/scale + ucy
			light := 0.8 + 0.2*float64(x)/float64(w)
			plane[y*w+x] = bilinear(u, v) * light
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sum, n := 0.0, 0.0
			for j := -1; j <= 1; j++ {
				for i := -1; i <= 1; i++ {
					if xx, yy := x+i, y+j; xx >= 0 && yy >= 0 && xx < w && yy < h {
						sum += plane[yy*w+xx]
						n++
					}
				}
			}
			v := sum/n + r.NormFloat64()*photoNoise
			out.Pix[y*out.Stride+x] = uint8(math.Max(0, math.Min(255, math.Round(v))))
		}
	}
	return out
}

// The distortions of TestWritePhoto.
const (
	photoScale = 0.8     // of the rendered size
	photoNoise = 12.0    // σ in grey levels
	photoPersp = 0.00003 // per pixel of height: the top edge about 3 % narrower
	photoAngle = 11.0    // degrees
)

// TestWriteSeeds writes the fuzz seed corpus when MYNAKIT_WRITE_TESTDATA=1.
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("MYNAKIT_WRITE_TESTDATA") == "" {
		t.Skip("set MYNAKIT_WRITE_TESTDATA=1 to regenerate testdata/fuzz")
	}
	write := func(target, name, arg string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+arg+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("FuzzDecode", "age", "[]byte("+strconv.Quote(string(encode(t, ageCode(t))))+")")
	write("FuzzDecode", "attributes", "[]byte("+strconv.Quote(string(encode(t, attributesCode(t))))+")")
	s, err := attributesCode(t).Text()
	if err != nil {
		t.Fatal(err)
	}
	write("FuzzParseText", "attributes", "string("+strconv.Quote(s)+")")
}
