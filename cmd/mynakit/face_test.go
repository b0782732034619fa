package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/face"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
)

// The exported PNG is the persona's photo, pixel for pixel.
func TestFaceExportsThePhoto(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "photo.png")
	if _, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "face", "--out", out); code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	off, n := simtest.Field(t, efData(t, defaultImage(t), myna.Surface, myna.SurfaceFace), 0xDF27)
	want, err := face.Decode(efData(t, defaultImage(t), myna.Surface, myna.SurfaceFace)[off : off+n])
	if err != nil {
		t.Fatal(err)
	}
	if !samePixels(got, want) {
		t.Fatal("the exported PNG differs from the card's photo")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("photo mode %v", fi.Mode())
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				return false
			}
		}
	}
	return true
}

// --all writes what verified signatures cover; the security-code image,
// which no signature covers, only with --unverified.
func TestFaceAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "face")
	if _, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "face", "--all", dir); code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	var idx struct {
		Images []struct {
			Part     string `json:"part"`
			Verified bool   `json:"verified"`
		} `json:"images"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, im := range idx.Images {
		parts = append(parts, im.Part)
		if !im.Verified {
			t.Errorf("%s exported unverified without --unverified", im.Part)
		}
	}
	if got := strings.Join(parts, ","); got != "photo,name,address,my-number" {
		t.Errorf("exported %s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "security-code.png")); err == nil {
		t.Error("the unsigned security-code image was exported without --unverified")
	}
	// A photo whose signature fails is not exported at all.
	bad := defaultImage(t)
	off, n := simtest.Field(t, efData(t, bad, myna.Surface, myna.SurfaceFace), 0xDF27)
	efData(t, bad, myna.Surface, myna.SurfaceFace)[off+n/2] ^= 1
	if _, _, code := run(t, "1234\n", "--sim-image", writeImage(t, bad), "--pin-stdin", "face", "--out", filepath.Join(t.TempDir(), "p.png")); code != exitError3 {
		t.Errorf("tampered photo exported: exit %d", code)
	}
}

func TestFacePrintSheet(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sheet.html")
	if _, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "face", "--print", out); code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{"黒桐　幹也", "data:image/png;base64,", "署名なし unsigned", "GENUINE"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
}

// qr --kind age makes a code that qr verify accepts; attributes needs its
// flag.
func TestQRMakeAndVerify(t *testing.T) {
	dir := t.TempDir()
	age := filepath.Join(dir, "age.png")
	if _, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "qr", "--kind", "age", "--out", age); code != 0 {
		t.Fatalf("qr --kind age: exit %d %s", code, errs)
	}
	out, errs, code := run(t, "", "--simulator", "qr", "verify", age)
	if code != 0 || !strings.Contains(out, "1980-02-17") || !strings.Contains(out, "GENUINE") {
		t.Fatalf("qr verify: exit %d\n%s%s", code, out, errs)
	}
	if _, _, code := run(t, "", "qr", "verify", age); code != exitUnknown {
		t.Fatalf("without the simulator's anchors: exit %d", code)
	}
	if _, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "qr", "--kind", "attributes"); code != exitError3 || !strings.Contains(errs, "--include-my-number-digest") {
		t.Fatalf("attributes without the flag: exit %d %s", code, errs)
	}
	text, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "qr", "--kind", "attributes", "--include-my-number-digest")
	if code != 0 || !strings.HasPrefix(text, "MYNAKIT:") {
		t.Fatalf("attributes: exit %d %s %s", code, text, errs)
	}
	out, _, code = run(t, text, "--simulator", "qr", "verify", "-")
	if code != 0 || !strings.Contains(out, "黒桐　幹也") {
		t.Fatalf("attributes verify: exit %d\n%s", code, out)
	}
	// No code from a card that is not genuine.
	bad := defaultImage(t)
	off, _ := simtest.Field(t, efData(t, bad, myna.Surface, myna.SurfaceAgeRecord), 0xDF11)
	efData(t, bad, myna.Surface, myna.SurfaceAgeRecord)[off+3] ^= 1
	if _, _, code := run(t, "1234\n", "--sim-image", writeImage(t, bad), "--pin-stdin", "qr", "--kind", "age", "--out", filepath.Join(dir, "bad.png")); code != exitNotGenuine {
		t.Fatalf("tampered age record: exit %d", code)
	}
}

// A photo whose card-face signature did not verify is never decoded: the
// print sheet leaves it out and says why, and --unverified writes it
// exactly as stored.
func TestFaceNeverDecodesAnUnverifiedPhoto(t *testing.T) {
	bad := defaultImage(t)
	ef := efData(t, bad, myna.Surface, myna.SurfaceFace)
	off, n := simtest.Field(t, ef, 0xDF27)
	ef[off+n-3] ^= 1 // packet data: the photo still decodes
	stored := append([]byte(nil), ef[off:off+n]...)
	if _, err := face.Decode(stored); err != nil {
		t.Fatalf("the changed photo no longer decodes (%v), so it proves nothing", err)
	}
	path := writeImage(t, bad)

	sheet := filepath.Join(t.TempDir(), "sheet.html")
	if _, errs, code := run(t, "1234\n", "--sim-image", path, "--pin-stdin", "face", "--print", sheet); code != exitNotGenuine {
		t.Fatalf("--print: exit %d %s", code, errs)
	}
	b, _ := os.ReadFile(sheet)
	if strings.Contains(string(b), "data:image/png;base64,") || !strings.Contains(string(b), "not decoded: signature not verified") {
		t.Errorf("the sheet shows the unverified photo or does not say why not:\n%s", b)
	}

	out := filepath.Join(t.TempDir(), "photo.jp2")
	_, errs, code := run(t, "1234\n", "--sim-image", path, "--pin-stdin", "face", "--unverified", "--out", out)
	if code != exitNotGenuine || !strings.Contains(errs, "not decoded") {
		t.Fatalf("--unverified: exit %d %s", code, errs)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, stored) {
		t.Error("--unverified did not write the photo exactly as stored")
	}
}
