package qr

import (
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
)

// ErrNoCode is returned by Scan when the picture shows no readable QR code.
var ErrNoCode = errors.New("qr: no readable QR code in the picture")

// PNG renders the payload as a QR code at error-correction level M (15 % of
// the code may be lost), size pixels square (the quiet zone included);
// size 0 picks 4 pixels per module.
func PNG(p *Payload, size int) ([]byte, error) {
	q, err := code(p)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		size = -4 // go-qrcode: a negative size is pixels per module
	}
	b, err := q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("qr: render: %w", err)
	}
	return b, nil
}

// QRVersion is the QR code version (1-40, the symbol size) the payload
// needs at level M.
func QRVersion(p *Payload) (int, error) {
	q, err := code(p)
	if err != nil {
		return 0, err
	}
	return q.VersionNumber, nil
}

func code(p *Payload) (*qrcode.QRCode, error) {
	text, err := p.Text()
	if err != nil {
		return nil, err
	}
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTooLarge, err)
	}
	return q, nil
}

// MaxScanPixels bounds the pictures Scan reads (a 48-megapixel phone
// photo); larger ones are refused rather than processed for seconds.
const MaxScanPixels = 48 << 20

// Scan finds a QR code in a picture (a screenshot, a rendered code, or a
// photograph taken at an angle) and returns the payload bytes of a mynakit
// code, ready for Decode.
//
// A large code (the payloads need QR versions 25 to 28) photographed with
// sensor noise defeats a single pass of the detector more often than a
// small one, so Scan tries the picture as it is, then smoothed by a 3×3
// and a 5×5 box filter, which removes noise without moving module edges.
func Scan(img image.Image) ([]byte, error) {
	b := img.Bounds()
	if b.Empty() || b.Dx()*b.Dy() > MaxScanPixels {
		return nil, fmt.Errorf("%w: picture of %d×%d pixels (at most %d in all)", ErrNoCode, b.Dx(), b.Dy(), MaxScanPixels)
	}
	grey := luma(img)
	var firstErr error
	for _, radius := range []int{0, 1, 2} {
		pic := grey
		if radius > 0 {
			pic = boxBlur(grey, radius)
		}
		text, err := scanOnce(pic)
		if err == nil {
			return ParseText(text)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrNoCode, firstErr)
}

func scanOnce(img *image.Gray) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// luma copies the picture into 8-bit grey at origin (0, 0).
func luma(img image.Image) *image.Gray {
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok && b.Min == (image.Point{}) {
		return g
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Pix[y*g.Stride+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
		}
	}
	return g
}

// boxBlur averages each pixel over a (2r+1)² square, in two separable
// passes of running sums.
func boxBlur(src *image.Gray, r int) *image.Gray {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	tmp := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+w]
		sum, n := 0, 0
		for x := 0; x < r && x < w; x++ {
			sum += int(row[x])
			n++
		}
		for x := 0; x < w; x++ {
			if x+r < w {
				sum += int(row[x+r])
				n++
			}
			if x-r-1 >= 0 {
				sum -= int(row[x-r-1])
				n--
			}
			tmp[y*w+x] = uint8(sum / n)
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		sum, n := 0, 0
		for y := 0; y < r && y < h; y++ {
			sum += int(tmp[y*w+x])
			n++
		}
		for y := 0; y < h; y++ {
			if y+r < h {
				sum += int(tmp[(y+r)*w+x])
				n++
			}
			if y-r-1 >= 0 {
				sum -= int(tmp[(y-r-1)*w+x])
				n--
			}
			out.Pix[y*out.Stride+x] = uint8(sum / n)
		}
	}
	return out
}
