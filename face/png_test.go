package face

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// samplePNG is a 1-bit greyscale PNG like the card's text images.
func samplePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 3 % 2)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withIHDR rewrites the dimensions in IHDR and fixes its CRC.
func withIHDR(b []byte, w, h uint32) []byte {
	b = append([]byte(nil), b...)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestCheckPNG(t *testing.T) {
	good := samplePNG(t, 72, 12)
	w, h, err := CheckPNG(good)
	if err != nil || w != 72 || h != 12 {
		t.Fatalf("CheckPNG = %d, %d, %v", w, h, err)
	}
	bad := map[string]struct {
		b    []byte
		want error
	}{
		"empty":          {nil, ErrPNG},
		"JPEG 2000":      {readTestdata(t, simulatorPhoto), ErrPNG},
		"bad signature":  {append([]byte{0x88}, good[1:]...), ErrPNG},
		"truncated":      {good[:len(good)-20], ErrPNG},
		"bad CRC":        {append(append([]byte(nil), good[:len(good)-13]...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), ErrPNG},
		"zero width":     {withIHDR(good, 0, 12), ErrPNG},
		"huge":           {withIHDR(good, 100000, 100000), ErrTooLarge},
		"too many":       {withIHDR(good, 4096, 4096), ErrTooLarge},
		"IHDR lies":      {withIHDR(good, 73, 12), ErrPNG},
		"oversize input": {make([]byte, MaxPNGBytes+1), ErrTooLarge},
	}
	for name, c := range bad {
		if _, _, err := CheckPNG(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func TestEncodePNGAndJPEGRoundTrip(t *testing.T) {
	img, err := Decode(readTestdata(t, simulatorPhoto))
	if err != nil {
		t.Fatal(err)
	}
	var p bytes.Buffer
	if err := EncodePNG(&p, img); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&p)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := back.(*image.Gray)
	if !ok || !bytes.Equal(g.Pix, img.(*image.Gray).Pix) {
		t.Fatalf("PNG round trip changed the photo (%T)", back)
	}
	var j bytes.Buffer
	if err := EncodeJPEG(&j, img, 0); err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(&j)
	if err != nil || cfg.Width != 90 || cfg.Height != 110 {
		t.Fatalf("JPEG: %+v, %v", cfg, err)
	}
	if err := EncodeJPEG(&j, img, 101); err == nil {
		t.Error("quality 101 accepted")
	}
}
