package face

import (
	"fmt"
	"image"
	"image/color"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mynakit/mynakit/simulator"
)

// The JPEG 2000 test images in testdata/jp2 are made by OpenJPEG's
// opj_compress from synthetic pictures, with the parameter sets below, and
// each comes with OpenJPEG's decode of it (NAME.opj.png, by
// opj_decompress). Regenerate them with
//
//	MYNAKIT_WRITE_TESTDATA=1 go test -run TestWriteTestdata ./face/
//
// (needs opj_compress and opj_decompress: Debian libopenjp2-tools).
var jp2Sets = []struct {
	name   string
	source string // "grey" or "colour"
	args   []string
	why    string
}{
	{"lossless-53.jp2", "grey", nil, "opj_compress defaults: reversible 5/3, 6 resolutions, 64×64 code blocks, LRCP, one layer"},
	{"lossless-tiles.jp2", "grey", []string{"-t", "64,64", "-n", "4"}, "20 tiles of 64×64, 4 resolutions"},
	{"lossless-cb16-pcrl.jp2", "grey", []string{"-n", "3", "-b", "16,16", "-p", "PCRL"}, "16×16 code blocks, 3 resolutions, PCRL order"},
	{"lossless-modes.jp2", "grey", []string{"-M", "63", "-SOP", "-EPH"}, "every code-block style switch (bypass, reset, restart, causal, termination, segmentation symbols), SOP and EPH markers"},
	{"lossless-offset-rlcp.j2k", "grey", []string{"-d", "7,5", "-p", "RLCP", "-n", "5"}, "bare codestream, image origin at (7,5), RLCP order"},
	{"lossy-97-r20.jp2", "grey", []string{"-I", "-r", "20"}, "irreversible 9/7 at 20:1"},
	{"lossy-97-layers-rpcl.jp2", "grey", []string{"-I", "-r", "40,20,10", "-p", "RPCL"}, "9/7, three quality layers, RPCL order"},
	{"lossy-97-precincts-cprl.jp2", "grey", []string{"-I", "-r", "15", "-c", "[64,64],[32,32]", "-p", "CPRL", "-SOP", "-EPH"}, "9/7, explicit precincts, CPRL order"},
	{"lossy-97-tiles.jp2", "grey", []string{"-I", "-r", "30,10", "-t", "100,128", "-TP", "R"}, "9/7, uneven tiles split into tile parts by resolution, two layers"},
	{"lossy-97-cb32-modes.jp2", "grey", []string{"-I", "-r", "12", "-M", "38", "-b", "32,32"}, "9/7, 32×32 code blocks, reset, restart and termination switches"},
	{"colour-53.jp2", "colour", nil, "three components, reversible colour transform"},
}

// simulatorPhoto is the default persona's photo, copied into testdata/jp2
// with its OpenJPEG decode.
const simulatorPhoto = "simulator-default.jp2"

// synthGrey is a deterministic portrait-like greyscale picture: a
// background gradient, a shaded oval, striped "hair", a dark body and
// Gaussian noise, so that every sub-band has content.
func synthGrey(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewSource(1))
	cx, cy := float64(w)/2, float64(h)*0.42
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 200 - 40*float64(y)/float64(h)
			dx, dy := (float64(x)-cx)/(float64(w)*0.28), (float64(y)-cy)/(float64(h)*0.3)
			if d := dx*dx + dy*dy; d < 1 {
				v = 150 + 50*math.Cos(d*2) - 20*dx
				if (x/3+y/7)%5 == 0 && dy < -0.6 {
					v -= 60
				}
			}
			if float64(y) > float64(h)*0.75 && math.Abs(float64(x)-cx) < float64(w)*0.4 {
				v = 60 + 10*math.Sin(float64(x)/4)
			}
			v += r.NormFloat64() * 6
			img.SetGray(x, y, color.Gray{Y: clamp8(v)})
		}
	}
	return img
}

func synthColour(w, h int) *image.RGBA {
	g := synthGrey(w, h)
	img := image.NewRGBA(g.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := float64(g.GrayAt(x, y).Y)
			img.Set(x, y, color.RGBA{R: clamp8(v * 1.1), G: clamp8(v*0.9 + 10), B: clamp8(255 - v), A: 255})
		}
	}
	return img
}

func clamp8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

func writePNM(path string, img image.Image) error {
	b := img.Bounds()
	var out []byte
	switch m := img.(type) {
	case *image.Gray:
		out = fmt.Appendf(nil, "P5\n%d %d\n255\n", b.Dx(), b.Dy())
		out = append(out, m.Pix...)
	case *image.RGBA:
		out = fmt.Appendf(nil, "P6\n%d %d\n255\n", b.Dx(), b.Dy())
		for i := 0; i < len(m.Pix); i += 4 {
			out = append(out, m.Pix[i:i+3]...)
		}
	}
	return os.WriteFile(path, out, 0o644)
}

func TestWriteTestdata(t *testing.T) {
	if os.Getenv("MYNAKIT_WRITE_TESTDATA") == "" {
		t.Skip("set MYNAKIT_WRITE_TESTDATA=1 to regenerate testdata/jp2 (needs OpenJPEG's tools)")
	}
	dir := filepath.Join("testdata", "jp2")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	grey, colour := filepath.Join(tmp, "grey.pgm"), filepath.Join(tmp, "colour.ppm")
	if err := writePNM(grey, synthGrey(240, 320)); err != nil {
		t.Fatal(err)
	}
	if err := writePNM(colour, synthColour(120, 160)); err != nil {
		t.Fatal(err)
	}
	for _, s := range jp2Sets {
		src := grey
		if s.source == "colour" {
			src = colour
		}
		out := filepath.Join(dir, s.name)
		args := append([]string{"-i", src, "-o", out}, s.args...)
		if b, err := exec.Command("opj_compress", args...).CombinedOutput(); err != nil {
			t.Fatalf("opj_compress %v: %v\n%s", args, err, b)
		}
	}
	photo, err := fs.ReadFile(simulator.TestData(), "photo/default.jp2")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, simulatorPhoto), photo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range testImages(t) {
		in := filepath.Join(dir, name)
		if b, err := exec.Command("opj_decompress", "-i", in, "-o", in+".opj.png").CombinedOutput(); err != nil {
			t.Fatalf("opj_decompress %s: %v\n%s", in, err, b)
		}
	}
}

// testImages lists the JPEG 2000 files of testdata/jp2.
func testImages(t testing.TB) []string {
	t.Helper()
	var names []string
	for _, s := range jp2Sets {
		names = append(names, s.name)
	}
	return append(names, simulatorPhoto)
}

// writeSeed writes one seed of a fuzz target's corpus under testdata/fuzz
// in Go's corpus file format.
func writeSeed(t *testing.T, target, name string, args ...[]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := "go test fuzz v1\n"
	for _, a := range args {
		s += "[]byte(" + strconv.Quote(string(a)) + ")\n"
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWriteSeeds regenerates the fuzz seed corpus when
// MYNAKIT_WRITE_TESTDATA=1.
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("MYNAKIT_WRITE_TESTDATA") == "" {
		t.Skip("set MYNAKIT_WRITE_TESTDATA=1 to regenerate testdata/fuzz")
	}
	writeSeed(t, "FuzzDecode", "simulator-photo", readTestdata(t, simulatorPhoto))
	writeSeed(t, "FuzzDecode", "lossy-97", readTestdata(t, "lossy-97-r20.jp2"))
	writeSeed(t, "FuzzDecode", "codestream-cut", readTestdata(t, "lossless-offset-rlcp.j2k")[:300])
	writeSeed(t, "FuzzCheckPNG", "text-image", samplePNG(t, 27, 12))
	// Multi-box files (issue 14): a second codestream, boxes after the
	// codestream, a codestream at the cap's edge.
	writeSeed(t, "FuzzDecode", "two-codestreams", twoCodestreams(t, 16000, 16000))
	writeSeed(t, "FuzzDecode", "second-codestream-to-end", append(append(readTestdata(t, simulatorPhoto), be32(nil, 0)...), append([]byte("jp2c"), claiming(simulatorCodestream(t), 60000, 60000)...)...))
	writeSeed(t, "FuzzDecode", "xml-after-codestream", appendBox(readTestdata(t, simulatorPhoto), "xml ", []byte("<a/>")))
	writeSeed(t, "FuzzDecode", "codestream-after-eoc", append(append([]byte(nil), simulatorCodestream(t)...), claiming(simulatorCodestream(t), 16000, 16000)...))
	writeSeed(t, "FuzzDecode", "small-precincts", wrapJP2(64, 64, 1, buildJ2K(j2k{w: 64, h: 64, comps: 1, levels: 3, pp: 0x11, layers: 3, body: noise(600, 4)})))
	writeSeed(t, "FuzzDecode", "colour-tiles-97", wrapJP2(96, 64, 3, buildJ2K(j2k{w: 96, h: 64, comps: 3, levels: 2, tileW: 32, tileH: 32, irreversible: true, body: noise(1200, 5)})))
	writeSeed(t, "FuzzDecodeAppendedBoxes", "second-codestream", appendBox(nil, "jp2c", claiming(simulatorCodestream(t), 16000, 16000)))
	writeSeed(t, "FuzzDecodeAppendedBoxes", "xlbox-codestream", append([]byte{0, 0, 0, 1, 'j', 'p', '2', 'c', 0, 0, 0, 0, 0, 0, 0x04, 0x9C}, claiming(simulatorCodestream(t), 64, 64)...))
	writeSeed(t, "FuzzDecodeAppendedBoxes", "second-header", appendBox(nil, "jp2h", appendBox(nil, "ihdr", make([]byte, 14))))
	writeSeed(t, "FuzzDecodeAppendedBoxes", "xml", appendBox(nil, "xml ", []byte("<a/>")))
	writeSeed(t, "FuzzDecodeAppendedBoxes", "one-byte", []byte{0})
}
