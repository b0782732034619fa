package face

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jp2", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodePNGFile(t testing.TB, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// compareToReference compares our decode with OpenJPEG's, sample by sample.
// Reversible images must be identical. Irreversible (9/7) ones are computed
// in floating point by both decoders, which round a few samples the other
// way: at most one level apart, on at most 0.2 % of the pixels.
func compareToReference(t *testing.T, name string, got, want image.Image, reversible bool) {
	t.Helper()
	gb, wb := got.Bounds(), want.Bounds()
	if gb.Dx() != wb.Dx() || gb.Dy() != wb.Dy() {
		t.Fatalf("%s: decoded %v, OpenJPEG %v", name, gb, wb)
	}
	differ, pixels, worst := 0, 0, 0
	for y := 0; y < gb.Dy(); y++ {
		for x := 0; x < gb.Dx(); x++ {
			r1, g1, b1, _ := got.At(gb.Min.X+x, gb.Min.Y+y).RGBA()
			r2, g2, b2, _ := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			pixels++
			off := 0
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				off = max(off, d, -d)
			}
			if off != 0 {
				differ++
			}
			worst = max(worst, off)
		}
	}
	if reversible {
		if differ != 0 {
			t.Errorf("%s: reversible image differs from OpenJPEG's decode in %d of %d pixels (by up to %d)", name, differ, pixels, worst)
		}
		return
	}
	if worst > 1 || differ*500 > pixels {
		t.Errorf("%s: irreversible image differs from OpenJPEG's in %d of %d pixels, by up to %d", name, differ, pixels, worst)
	}
	t.Logf("%s: %d of %d pixels one level off OpenJPEG's", name, differ, pixels)
}

func TestDecodeMatchesStoredOpenJPEGDecodes(t *testing.T) {
	reversibleSeen, lossySeen := 0, 0
	for _, name := range testImages(t) {
		b := readTestdata(t, name)
		info, err := Inspect(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.Components == 1 {
			if _, ok := img.(*image.Gray); !ok {
				t.Errorf("%s: greyscale decoded as %T", name, img)
			}
		}
		if info.Reversible {
			reversibleSeen++
		} else {
			lossySeen++
		}
		want := decodePNGFile(t, filepath.Join("testdata", "jp2", name+".opj.png"))
		compareToReference(t, name, img, want, info.Reversible)
	}
	if reversibleSeen < 5 || lossySeen < 5 {
		t.Fatalf("testdata covers %d reversible and %d irreversible images, want 5 of each", reversibleSeen, lossySeen)
	}
}

// TestDecodeMatchesOpenJPEGLive runs opj_decompress on every test image now
// and compares. With CI set, a missing opj_decompress fails the test.
func TestDecodeMatchesOpenJPEGLive(t *testing.T) {
	opj, err := exec.LookPath("opj_decompress")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("opj_decompress not found (Debian libopenjp2-tools; `make deps` installs it)")
		}
		t.Skip("opj_decompress not found (Debian libopenjp2-tools)")
	}
	dir := t.TempDir()
	for _, name := range testImages(t) {
		in := filepath.Join("testdata", "jp2", name)
		out := filepath.Join(dir, name+".png")
		if b, err := exec.Command(opj, "-i", in, "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("opj_decompress %s: %v\n%s", name, err, b)
		}
		b := readTestdata(t, name)
		img, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		info, _ := Inspect(b)
		compareToReference(t, name, img, decodePNGFile(t, out), info.Reversible)
	}
}

func TestInspectReadsHeaders(t *testing.T) {
	info, err := Inspect(readTestdata(t, simulatorPhoto))
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Container: true, Width: 90, Height: 110, Components: 1, Reversible: true, Tiles: 1, Levels: 5, Layers: 1}
	if info != want {
		t.Errorf("Inspect = %+v, want %+v", info, want)
	}
	info, err = Inspect(readTestdata(t, "lossy-97-tiles.jp2"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Container != true || info.Reversible || info.Tiles != 9 || info.Layers != 2 || info.Width != 240 {
		t.Errorf("Inspect(lossy-97-tiles) = %+v", info)
	}
	info, err = Inspect(readTestdata(t, "lossless-offset-rlcp.j2k"))
	if err != nil || info.Container || info.Width != 240 || info.Height != 320 {
		t.Errorf("Inspect(bare codestream) = %+v, %v", info, err)
	}
}

// setSIZ rewrites the SIZ segment of a JP2 file made by opj_compress.
func sizOffset(t *testing.T, b []byte) int {
	t.Helper()
	i := bytes.Index(b, []byte{0xFF, 0x4F, 0xFF, 0x51})
	if i < 0 {
		t.Fatal("no SOC SIZ")
	}
	return i + 6 // start of Rsiz
}

func TestDecodeRefusesBeyondTheCapBeforeDecoding(t *testing.T) {
	base := readTestdata(t, simulatorPhoto)
	put32 := func(b []byte, off int, v uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	cases := []struct {
		name string
		mod  func(b []byte, siz int)
		want error
	}{
		{"huge width", func(b []byte, siz int) { put32(b, siz+2, 60000); put32(b, siz+18, 60000) }, ErrTooLarge},
		{"huge height", func(b []byte, siz int) { put32(b, siz+6, 1<<30); put32(b, siz+22, 1<<30) }, ErrTooLarge},
		{"tiny tiles", func(b []byte, siz int) { put32(b, siz+18, 1); put32(b, siz+22, 1) }, ErrTooLarge},
		{"16-bit", func(b []byte, siz int) { b[siz+36] = 15 }, ErrUnsupported},
		{"two components", func(b []byte, siz int) { b[siz+35] = 2 }, ErrCorrupt},
		{"origin past end", func(b []byte, siz int) { put32(b, siz+10, 1000) }, ErrCorrupt},
	}
	for _, c := range cases {
		b := append([]byte(nil), base...)
		c.mod(b, sizOffset(t, b))
		if _, err := Decode(b); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := (Limits{Pixels: 90*110 - 1}).Decode(base); !errors.Is(err, ErrTooLarge) {
		t.Errorf("tighter Limits: err = %v", err)
	}
	if _, err := (Limits{Pixels: 90 * 110}).Decode(base); err != nil {
		t.Errorf("Limits at the photo's size: %v", err)
	}
	big := make([]byte, MaxInputBytes+1)
	copy(big, base)
	if _, err := Decode(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize input: err = %v", err)
	}
	if _, err := Decode([]byte("\x89PNG\r\n\x1a\n")); !errors.Is(err, ErrFormat) {
		t.Errorf("PNG given as JPEG 2000: err = %v", err)
	}
}

// TestDecodeDamagedNeverPanics cuts the photo short at every 7th length and
// overwrites every 7th byte with three values, and checks each result is an
// image within the cap or an error (FuzzDecode explores further).
func TestDecodeDamagedNeverPanics(t *testing.T) {
	base := readTestdata(t, simulatorPhoto)
	for cut := 0; cut < len(base); cut += 7 {
		if _, err := Decode(base[:cut]); err == nil && cut < 100 {
			t.Errorf("decoded a file cut at %d bytes", cut)
		}
	}
	for i := 0; i < len(base); i += 7 {
		for _, v := range []byte{0x00, 0xFF, base[i] ^ 0x55} {
			b := append([]byte(nil), base...)
			b[i] = v
			img, err := Decode(b)
			if err == nil && (img.Bounds().Dx() > MaxDimension || img.Bounds().Dy() > MaxDimension) {
				t.Fatalf("byte %d = %02X: decoded beyond the cap", i, v)
			}
		}
	}
}

func BenchmarkDecodeSimulatorPhoto(b *testing.B) {
	data := readTestdata(b, simulatorPhoto)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeCardPhoto decodes a 240×320 greyscale photo (larger than
// the card's) compressed 9/7 at 20:1, as a card photo of a few kilobytes is.
func BenchmarkDecodeCardPhoto(b *testing.B) {
	data := readTestdata(b, "lossy-97-r20.jp2")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeLossless240x320(b *testing.B) {
	data := readTestdata(b, "lossless-53.jp2")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
