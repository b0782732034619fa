package face

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/mynakit/mynakit/trust"
)

// Part is one picture of the card face.
type Part string

const (
	PartPhoto        Part = "photo"         // DF27, JPEG 2000
	PartName         Part = "name"          // DF25, PNG
	PartAddress      Part = "address"       // DF26, PNG
	PartMyNumber     Part = "my-number"     // EF 0005 DF41, PNG
	PartSecurityCode Part = "security-code" // DF2A, PNG
)

// Parts lists every part in a stable order.
func Parts() []Part {
	return []Part{PartPhoto, PartName, PartAddress, PartMyNumber, PartSecurityCode}
}

// CoveredBy names the check of the J-LIS signature that covers the part
// (docs/card.md §5.7): the card-face signature DF28 covers the photo and
// the name and address images; EF 0005's DF43 covers the My Number image;
// nothing covers the security-code image, so it returns "".
func (p Part) CoveredBy() trust.CheckName {
	switch p {
	case PartPhoto, PartName, PartAddress:
		return trust.CheckSurfaceFace
	case PartMyNumber:
		return trust.CheckSurfaceMyNumberImage
	}
	return ""
}

// Japanese is the part's name on the card.
func (p Part) Japanese() string {
	switch p {
	case PartPhoto:
		return "顔写真"
	case PartName:
		return "氏名"
	case PartAddress:
		return "住所"
	case PartMyNumber:
		return "個人番号"
	case PartSecurityCode:
		return "セキュリティコード"
	}
	return string(p)
}

// Images are the card-face pictures exactly as the card stores them (for
// example cardap.Surface's Photo, NameImage, AddressImage, MyNumberImage and
// SecurityCodeImage). A nil field was not read.
type Images struct {
	Photo        []byte // JPEG 2000 (JP2)
	Name         []byte // PNG
	Address      []byte // PNG
	MyNumber     []byte // PNG
	SecurityCode []byte // PNG
}

func knownPart(p Part) bool {
	for _, q := range Parts() {
		if p == q {
			return true
		}
	}
	return false
}

func (im Images) get(p Part) []byte {
	switch p {
	case PartPhoto:
		return im.Photo
	case PartName:
		return im.Name
	case PartAddress:
		return im.Address
	case PartMyNumber:
		return im.MyNumber
	case PartSecurityCode:
		return im.SecurityCode
	}
	return nil
}

// PhotoFormat is how the photo is exported.
type PhotoFormat string

const (
	PhotoPNG  PhotoFormat = "png"  // lossless: the card's pixels
	PhotoJPEG PhotoFormat = "jpeg" // lossy, smaller
)

// ExportOptions chooses what Exports writes.
type ExportOptions struct {
	// Parts to export; empty means every part that was read.
	Parts []Part
	// PhotoFormat is PhotoPNG (the default) or PhotoJPEG.
	PhotoFormat PhotoFormat
	// JPEGQuality for PhotoJPEG; 0 means DefaultJPEGQuality.
	JPEGQuality int
	// Unverified exports parts whose covering signature did not verify, and
	// the security-code image, which no signature covers. Each such Export
	// is marked Verified false. Such a photo is written exactly as stored
	// (photo.jp2, JPEG 2000), never decoded.
	Unverified bool
}

// Export is one exported picture.
type Export struct {
	Part     Part
	Filename string // suggested: photo.png, name.png, ...
	Data     []byte
	// Verified is true when the J-LIS signature covering the part passed.
	Verified bool
}

// ErrUnverified is returned by Exports for parts whose signature has not
// verified (or that no signature covers) when Unverified is not set.
var ErrUnverified = errors.New("face: picture not covered by a verified J-LIS signature")

// Exportable is the "export everything" list for Exports: every part a
// J-LIS signature covers, and with unverified the security-code image,
// which none covers. The My Number image is read only when asked for (it
// needs 照合番号A), so it is listed only when im holds it; a missing photo,
// name or address image stays listed, for Exports to report. Exports still
// refuses a listed part whose signature did not pass.
func Exportable(im Images, unverified bool) []Part {
	var out []Part
	for _, p := range Parts() {
		switch {
		case p.CoveredBy() == "" && !unverified:
		case p == PartMyNumber && im.get(p) == nil:
		default:
			out = append(out, p)
		}
	}
	return out
}

// Exports turns the card-face pictures into files. A part is exported only
// when the check named by its CoveredBy is among checks with the result
// pass (so under a verified CV certificate), unless opts.Unverified is set;
// the security-code image needs Unverified always. A verified photo is
// decoded and written as PNG or JPEG, an unverified one as stored (JP2,
// never decoded: see DecodeVerified); the PNG images are checked with CheckPNG and
// written exactly as stored. A requested part that was not read is an error.
func Exports(im Images, checks []trust.Check, opts ExportOptions) ([]Export, error) {
	passed := map[trust.CheckName]bool{}
	for _, c := range checks {
		if c.Result == trust.Pass {
			passed[c.Name] = true
		}
	}
	parts := opts.Parts
	if len(parts) == 0 {
		for _, p := range Parts() {
			if im.get(p) != nil {
				parts = append(parts, p)
			}
		}
	}
	var refused []string
	var out []Export
	for _, p := range parts {
		data := im.get(p)
		if !knownPart(p) {
			return nil, fmt.Errorf("face: unknown part %q", p)
		}
		if data == nil {
			return nil, fmt.Errorf("face: the %s image was not read", p)
		}
		verified := p.CoveredBy() != "" && passed[p.CoveredBy()]
		if !verified && !opts.Unverified {
			why := string(p.CoveredBy()) + " has not passed"
			if p.CoveredBy() == "" {
				why = "no signature covers it"
			}
			refused = append(refused, fmt.Sprintf("%s (%s)", p, why))
			continue
		}
		if p == PartPhoto && !verified {
			// A photo no verified signature covers is hostile input: it is
			// written exactly as stored and never decoded.
			out = append(out, Export{Part: p, Filename: "photo.jp2", Data: data})
			continue
		}
		e, err := exportOne(p, data, opts)
		if err != nil {
			return nil, err
		}
		e.Verified = verified
		out = append(out, e)
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("%w: %s; --unverified exports them anyway", ErrUnverified, strings.Join(refused, ", "))
	}
	return out, nil
}

func exportOne(p Part, data []byte, opts ExportOptions) (Export, error) {
	if p != PartPhoto {
		if _, _, err := CheckPNG(data); err != nil {
			return Export{}, fmt.Errorf("%s image: %w", p, err)
		}
		return Export{Part: p, Filename: string(p) + ".png", Data: data}, nil
	}
	img, err := Decode(data)
	if err != nil {
		return Export{}, fmt.Errorf("photo: %w", err)
	}
	var buf bytes.Buffer
	name := "photo.png"
	switch opts.PhotoFormat {
	case "", PhotoPNG:
		err = EncodePNG(&buf, img)
	case PhotoJPEG:
		name = "photo.jpg"
		err = EncodeJPEG(&buf, img, opts.JPEGQuality)
	default:
		err = fmt.Errorf("face: photo format %q (want png or jpeg)", opts.PhotoFormat)
	}
	if err != nil {
		return Export{}, err
	}
	return Export{Part: PartPhoto, Filename: name, Data: buf.Bytes()}, nil
}
