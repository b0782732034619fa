package face

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"

	jpeg2000 "github.com/ajroetker/go-jpeg2000"

	"github.com/mynakit/mynakit/trust"
)

// Errors of the decoders and checkers; test with errors.Is.
var (
	ErrFormat      = errors.New("face: not a JPEG 2000 image")
	ErrTooLarge    = errors.New("face: image exceeds the size cap")
	ErrUnsupported = errors.New("face: unsupported JPEG 2000 feature")
	ErrCorrupt     = errors.New("face: damaged image data")
	ErrPNG         = errors.New("face: not a valid PNG image")
)

// Decode turns a JPEG 2000 image (a JP2 file as the card stores its photo,
// or a bare codestream) into an *image.Gray (one component) or an
// *image.RGBA (three). It is pure Go.
//
// The headers are checked against the size cap (MaxInputBytes, MaxDimension,
// MaxPixels, MaxSamples, MaxTiles, MaxLevels, MaxLayers, MaxCodeBlocks,
// MaxPrecincts, MaxPackets) before anything is decoded, so a hostile file
// cannot make it allocate more than the cap allows. A JP2 file must hold
// exactly one codestream and nothing after it (see Inspect); the decoder is
// given only the codestream and header box that were checked. A damaged
// codestream gives an error wrapping ErrCorrupt; the decoder's own run-time
// failures on such input are caught and reported the same way.
//
// Reversible (5/3, lossless) images decode bit-exactly, as every conforming
// decoder must; irreversible (9/7) images are computed in floating point,
// and decoders may differ by one grey level on a few pixels (ISO/IEC
// 15444-4 sets tolerances rather than exact values for them).
func Decode(b []byte) (image.Image, error) { return Limits{}.Decode(b) }

// Decode is the package-level Decode under the cap l (for a caller that
// wants a tighter one).
func (l Limits) Decode(b []byte) (image.Image, error) {
	a, err := l.inspect(b)
	if err != nil {
		return nil, err
	}
	info := a.info
	img, err := decodeGuarded(a.decoderInput())
	if err != nil {
		return nil, err
	}
	r := img.Bounds()
	if r.Dx() != info.Width || r.Dy() != info.Height {
		return nil, fmt.Errorf("%w: decoded %d×%d, header says %d×%d", ErrCorrupt, r.Dx(), r.Dy(), info.Width, info.Height)
	}
	if info.Components == 1 {
		return toGray(img), nil
	}
	return img, nil
}

// DecodeVerified decodes the card photo only when checks hold a pass of
// the J-LIS signature that covers it (PartPhoto.CoveredBy, the card-face
// signature). Otherwise nothing is decoded, and the error wraps
// ErrUnverified and says why: a photo no J-LIS key vouches for is hostile
// input, and the decoder is the largest attack surface of a read.
func DecodeVerified(photo []byte, checks []trust.Check) (image.Image, error) {
	if err := photoVerified(checks); err != nil {
		return nil, err
	}
	return Decode(photo)
}

// photoVerified is nil when checks hold a pass of the photo's signature.
func photoVerified(checks []trust.Check) error {
	name := PartPhoto.CoveredBy()
	for _, c := range checks {
		if c.Name != name {
			continue
		}
		if c.Result == trust.Pass {
			return nil
		}
		why := fmt.Sprintf("%s is %s", name, c.Result)
		if c.Detail != "" {
			why += ": " + c.Detail
		}
		return fmt.Errorf("%w: photo not decoded: signature not verified (%s)", ErrUnverified, why)
	}
	return fmt.Errorf("%w: photo not decoded: signature not verified (%s was not checked)", ErrUnverified, name)
}

// decodeGuarded runs the JPEG 2000 decoder and turns a run-time panic on
// malformed input (an index out of range, a division by zero) into an
// error. The decoder runs in this goroutine only, so recover sees them.
func decodeGuarded(b []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%w: the JPEG 2000 decoder failed (%v)", ErrCorrupt, r)
		}
	}()
	img, err = jpeg2000.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if img == nil || img.Bounds().Empty() {
		return nil, fmt.Errorf("%w: no picture decoded", ErrCorrupt)
	}
	return img, nil
}

// toGray copies a decoded greyscale picture (which the decoder returns with
// equal R, G and B) into an *image.Gray at origin (0, 0).
func toGray(img image.Image) *image.Gray {
	r := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	if rgba, ok := img.(*image.RGBA); ok {
		for y := 0; y < r.Dy(); y++ {
			row := rgba.Pix[rgba.PixOffset(r.Min.X, r.Min.Y+y):]
			out := g.Pix[y*g.Stride:]
			for x := 0; x < r.Dx(); x++ {
				out[x] = row[4*x]
			}
		}
		return g
	}
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			g.SetGray(x, y, color.GrayModel.Convert(img.At(r.Min.X+x, r.Min.Y+y)).(color.Gray))
		}
	}
	return g
}
