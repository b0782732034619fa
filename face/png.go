package face

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// Caps for the card-face PNG images (name, address, My Number, security
// code). The card's are a few hundred pixels wide and 12 or more high.
const (
	MaxPNGBytes     = 256 << 10
	MaxPNGDimension = 4096
	MaxPNGPixels    = 1 << 22
)

var pngSignature = []byte{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}

// CheckPNG checks a card-face image as stored: the PNG signature, an IHDR
// chunk first with sane dimensions (within MaxPNGDimension and
// MaxPNGPixels), and a picture that decodes (chunk CRCs, zlib stream, IEND).
// The dimensions are read from IHDR before anything is decoded.
func CheckPNG(b []byte) (width, height int, err error) {
	if len(b) > MaxPNGBytes {
		return 0, 0, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxPNGBytes)
	}
	if len(b) < len(pngSignature)+25 || !bytes.Equal(b[:len(pngSignature)], pngSignature) {
		return 0, 0, fmt.Errorf("%w: no PNG signature", ErrPNG)
	}
	ihdr := b[len(pngSignature):]
	if binary.BigEndian.Uint32(ihdr) != 13 || string(ihdr[4:8]) != "IHDR" {
		return 0, 0, fmt.Errorf("%w: first chunk is not a 13-byte IHDR", ErrPNG)
	}
	w, h := binary.BigEndian.Uint32(ihdr[8:]), binary.BigEndian.Uint32(ihdr[12:])
	if w == 0 || h == 0 {
		return 0, 0, fmt.Errorf("%w: %d×%d pixels", ErrPNG, w, h)
	}
	if w > MaxPNGDimension || h > MaxPNGDimension || uint64(w)*uint64(h) > MaxPNGPixels {
		return 0, 0, fmt.Errorf("%w: %d×%d pixels, at most %d per side and %d in all", ErrTooLarge, w, h, MaxPNGDimension, MaxPNGPixels)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrPNG, err)
	}
	if r := img.Bounds(); r.Dx() != int(w) || r.Dy() != int(h) {
		return 0, 0, fmt.Errorf("%w: decoded %d×%d, IHDR says %d×%d", ErrPNG, r.Dx(), r.Dy(), w, h)
	}
	return int(w), int(h), nil
}

// EncodePNG writes img as PNG (lossless: a greyscale photo keeps every
// grey level).
func EncodePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("face: encode PNG: %w", err)
	}
	return nil
}

// DefaultJPEGQuality is the quality EncodeJPEG uses for 0.
const DefaultJPEGQuality = 90

// EncodeJPEG writes img as baseline JPEG with the given quality (1-100; 0
// means DefaultJPEGQuality). JPEG is lossy: use PNG where the pixels must
// match the card's.
func EncodeJPEG(w io.Writer, img image.Image, quality int) error {
	if quality == 0 {
		quality = DefaultJPEGQuality
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("face: JPEG quality %d, want 1-100", quality)
	}
	if err := jpeg.Encode(w, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("face: encode JPEG: %w", err)
	}
	return nil
}
