package face

import (
	"encoding/binary"
	"fmt"
)

// The size cap. A card photo is a few kilobytes (the whole card-face file
// must fit the 15-bit offsets of READ BINARY, so it is under 32 KiB); the
// caps leave room for photos from other sources while keeping the decoder's
// memory bounded: it holds a few 32- and 64-bit planes of the image, so
// MaxPixels bounds it to tens of megabytes.
const (
	MaxInputBytes = 1 << 20 // bytes of JP2 file or codestream
	MaxDimension  = 1024    // pixels per side
	MaxPixels     = 1 << 20 // width × height
	MaxTiles      = 1024
	MaxLevels     = 12 // wavelet decomposition levels (ISO/IEC 15444-1 allows 32)
	MaxLayers     = 64 // quality layers
)

// Limits is a size cap. The zero value of a field means the default
// constant's value.
type Limits struct {
	InputBytes int
	Dimension  int
	Pixels     int
	Tiles      int
	Levels     int
	Layers     int
}

// orDefault fills unset fields with the package defaults.
func (l Limits) orDefault() Limits {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&l.InputBytes, MaxInputBytes)
	set(&l.Dimension, MaxDimension)
	set(&l.Pixels, MaxPixels)
	set(&l.Tiles, MaxTiles)
	set(&l.Levels, MaxLevels)
	set(&l.Layers, MaxLayers)
	return l
}

// Info is what the headers of a JPEG 2000 image say, read without decoding it.
type Info struct {
	Container  bool // a JP2 file (ISO/IEC 15444-1 Annex I), not a bare codestream
	Width      int
	Height     int
	Components int  // 1 (greyscale) or 3 (colour)
	Reversible bool // 5/3 reversible wavelet: lossless, decoded bit-exactly
	Tiles      int
	Levels     int // decomposition levels of the main header's COD
	Layers     int
}

// jp2Signature is the JP2 signature box: length 12, type "jP  ", content
// 0D 0A 87 0A (ISO/IEC 15444-1 I.5.1).
var jp2Signature = []byte{0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}

// Inspect reads the JP2 boxes and the codestream's marker segments and
// checks them against the default size cap and what Decode supports,
// without decoding anything. Every later allocation of the decoder is
// bounded by what Inspect accepted.
func Inspect(b []byte) (Info, error) { return Limits{}.Inspect(b) }

// Inspect is the package-level Inspect under the cap l.
func (l Limits) Inspect(b []byte) (Info, error) {
	l = l.orDefault()
	if len(b) > l.InputBytes {
		return Info{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), l.InputBytes)
	}
	var info Info
	cs := b
	var ihdr *jp2Header
	if len(b) >= len(jp2Signature) && string(b[:len(jp2Signature)]) == string(jp2Signature) {
		info.Container = true
		var err error
		if cs, ihdr, err = jp2Codestream(b); err != nil {
			return Info{}, err
		}
	} else if len(b) < 2 || b[0] != 0xFF || b[1] != 0x4F {
		return Info{}, fmt.Errorf("%w: neither a JP2 signature nor a codestream SOC marker", ErrFormat)
	}
	if err := l.scanCodestream(cs, &info); err != nil {
		return Info{}, err
	}
	if ihdr != nil && (ihdr.width != info.Width || ihdr.height != info.Height || ihdr.components != info.Components) {
		return Info{}, fmt.Errorf("%w: JP2 header says %d×%d×%d, codestream %d×%d×%d", ErrCorrupt,
			ihdr.width, ihdr.height, ihdr.components, info.Width, info.Height, info.Components)
	}
	return info, nil
}

type jp2Header struct{ width, height, components int }

// jp2Codestream walks the top-level boxes of a JP2 file and returns the
// contents of its contiguous-codestream box (jp2c) and its image header.
func jp2Codestream(b []byte) ([]byte, *jp2Header, error) {
	var hdr *jp2Header
	var cs []byte
	for off := 0; off < len(b); {
		typ, body, next, err := box(b, off)
		if err != nil {
			return nil, nil, err
		}
		switch typ {
		case "jp2h":
			h, err := parseJP2H(body)
			if err != nil {
				return nil, nil, err
			}
			hdr = h
		case "jp2c":
			if cs == nil {
				cs = body
			}
		}
		off = next
	}
	if hdr == nil {
		return nil, nil, fmt.Errorf("%w: JP2 file without a header box", ErrCorrupt)
	}
	if cs == nil {
		return nil, nil, fmt.Errorf("%w: JP2 file without a codestream box", ErrCorrupt)
	}
	return cs, hdr, nil
}

// box reads the box at off: LBox (4), TBox (4), XLBox (8) when LBox is 1;
// LBox 0 means the box runs to the end of the file (ISO/IEC 15444-1 I.4).
func box(b []byte, off int) (typ string, body []byte, next int, err error) {
	if len(b)-off < 8 {
		return "", nil, 0, fmt.Errorf("%w: truncated box header at %d", ErrCorrupt, off)
	}
	l := uint64(binary.BigEndian.Uint32(b[off:]))
	typ = string(b[off+4 : off+8])
	hl := uint64(8)
	switch l {
	case 0:
		l = uint64(len(b) - off)
	case 1:
		if len(b)-off < 16 {
			return "", nil, 0, fmt.Errorf("%w: truncated box header at %d", ErrCorrupt, off)
		}
		l, hl = binary.BigEndian.Uint64(b[off+8:]), 16
	}
	if l < hl || l > uint64(len(b)-off) {
		return "", nil, 0, fmt.Errorf("%w: box %q of length %d at %d", ErrCorrupt, typ, l, off)
	}
	return typ, b[off+int(hl) : off+int(l)], off + int(l), nil
}

// parseJP2H finds the image header box (ihdr) in the JP2 header superbox:
// HEIGHT (4), WIDTH (4), NC (2), BPC (1), C (1), UnkC (1), IPR (1).
func parseJP2H(b []byte) (*jp2Header, error) {
	for off := 0; off < len(b); {
		typ, body, next, err := box(b, off)
		if err != nil {
			return nil, err
		}
		if typ == "ihdr" {
			if len(body) != 14 {
				return nil, fmt.Errorf("%w: image header box of %d bytes", ErrCorrupt, len(body))
			}
			return &jp2Header{
				height:     int(binary.BigEndian.Uint32(body[0:])),
				width:      int(binary.BigEndian.Uint32(body[4:])),
				components: int(binary.BigEndian.Uint16(body[8:])),
			}, nil
		}
		off = next
	}
	return nil, fmt.Errorf("%w: JP2 header without an image header box", ErrCorrupt)
}

// Codestream markers (ISO/IEC 15444-1 Table A.2).
const (
	mSOC = 0xFF4F
	mSIZ = 0xFF51
	mCOD = 0xFF52
	mCOC = 0xFF53
	mSOT = 0xFF90
	mSOD = 0xFF93
	mEOC = 0xFFD9
)

// scanCodestream checks the main header (SIZ, COD, COC) and every
// tile-part header (their COD and COC may override the main header's).
func (l Limits) scanCodestream(b []byte, info *Info) error {
	if len(b) < 4 || binary.BigEndian.Uint16(b) != mSOC {
		return fmt.Errorf("%w: codestream does not start with SOC", ErrCorrupt)
	}
	off := 2
	// Main header: marker segments up to the first SOT.
	sawSIZ, sawCOD := false, false
	csiz := 0
	for {
		m, seg, next, err := segment(b, off)
		if err != nil {
			return err
		}
		if m == mSOT {
			break
		}
		switch m {
		case mSIZ:
			if off != 2 {
				return fmt.Errorf("%w: SIZ is not the first marker segment", ErrCorrupt)
			}
			if err := l.checkSIZ(seg, info); err != nil {
				return err
			}
			sawSIZ, csiz = true, info.Components
		case mCOD:
			if !sawSIZ {
				return fmt.Errorf("%w: COD before SIZ", ErrCorrupt)
			}
			if err := l.checkCOD(seg, info, true); err != nil {
				return err
			}
			sawCOD = true
		case mCOC:
			if !sawSIZ {
				return fmt.Errorf("%w: COC before SIZ", ErrCorrupt)
			}
			if err := l.checkCOC(seg, csiz); err != nil {
				return err
			}
		}
		off = next
	}
	if !sawSIZ || !sawCOD {
		return fmt.Errorf("%w: main header lacks SIZ or COD", ErrCorrupt)
	}
	// Tile parts: SOT, header segments, SOD, data of Psot bytes in all.
	tileParts := 0
	for off < len(b) {
		if len(b)-off >= 2 && binary.BigEndian.Uint16(b[off:]) == mEOC {
			return nil
		}
		start := off
		m, seg, next, err := segment(b, off)
		if err != nil {
			return err
		}
		if m != mSOT || len(seg) != 8 {
			return fmt.Errorf("%w: marker %04X where a tile part starts", ErrCorrupt, m)
		}
		if tileParts++; tileParts > 4*l.Tiles {
			return fmt.Errorf("%w: more than %d tile parts", ErrTooLarge, 4*l.Tiles)
		}
		if idx := int(binary.BigEndian.Uint16(seg)); idx >= info.Tiles {
			return fmt.Errorf("%w: tile index %d of %d tiles", ErrCorrupt, idx, info.Tiles)
		}
		psot := int(binary.BigEndian.Uint32(seg[2:]))
		off = next
		for {
			if len(b)-off >= 2 && binary.BigEndian.Uint16(b[off:]) == mSOD {
				off += 2
				break
			}
			m, seg, next, err := segment(b, off)
			if err != nil {
				return err
			}
			switch m {
			case mCOD:
				if err := l.checkCOD(seg, info, false); err != nil {
					return err
				}
			case mCOC:
				if err := l.checkCOC(seg, csiz); err != nil {
					return err
				}
			case mSIZ, mSOT, mSOC:
				return fmt.Errorf("%w: marker %04X in a tile-part header", ErrCorrupt, m)
			}
			off = next
		}
		if psot == 0 { // the last tile part runs to EOC
			return nil
		}
		if psot < off-start || psot > len(b)-start {
			return fmt.Errorf("%w: tile part of %d bytes at %d", ErrCorrupt, psot, start)
		}
		off = start + psot
	}
	// A codestream cut short of EOC: the decoder takes what is there.
	return nil
}

// segment reads a marker and its length-prefixed segment at off.
func segment(b []byte, off int) (marker uint16, seg []byte, next int, err error) {
	if len(b)-off < 4 {
		return 0, nil, 0, fmt.Errorf("%w: truncated marker segment at %d", ErrCorrupt, off)
	}
	marker = binary.BigEndian.Uint16(b[off:])
	if marker < 0xFF30 {
		return 0, nil, 0, fmt.Errorf("%w: no marker at %d", ErrCorrupt, off)
	}
	l := int(binary.BigEndian.Uint16(b[off+2:]))
	if l < 2 || off+2+l > len(b) {
		return 0, nil, 0, fmt.Errorf("%w: marker %04X segment of length %d at %d", ErrCorrupt, marker, l, off)
	}
	return marker, b[off+4 : off+2+l], off + 2 + l, nil
}

// checkSIZ reads the image and tile size segment (ISO/IEC 15444-1 A.5.1):
// Rsiz (2), Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz (4
// each), Csiz (2), then Ssiz, XRsiz, YRsiz per component.
func (l Limits) checkSIZ(s []byte, info *Info) error {
	if len(s) < 36 {
		return fmt.Errorf("%w: SIZ of %d bytes", ErrCorrupt, len(s))
	}
	u := func(i int) uint64 { return uint64(binary.BigEndian.Uint32(s[2+4*i:])) }
	xsiz, ysiz, xo, yo, xt, yt, xto, yto := u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7)
	c := int(binary.BigEndian.Uint16(s[34:]))
	if len(s) != 36+3*c {
		return fmt.Errorf("%w: SIZ of %d bytes for %d components", ErrCorrupt, len(s), c)
	}
	if xo >= xsiz || yo >= ysiz || xt == 0 || yt == 0 || xto > xo || yto > yo || xto+xt <= xo || yto+yt <= yo {
		return fmt.Errorf("%w: inconsistent image and tile geometry", ErrCorrupt)
	}
	w, h := xsiz-xo, ysiz-yo
	if w > uint64(l.Dimension) || h > uint64(l.Dimension) || w*h > uint64(l.Pixels) {
		return fmt.Errorf("%w: %d×%d pixels, at most %d per side and %d in all", ErrTooLarge, w, h, l.Dimension, l.Pixels)
	}
	tiles := ((xsiz - xto + xt - 1) / xt) * ((ysiz - yto + yt - 1) / yt)
	if tiles > uint64(l.Tiles) {
		return fmt.Errorf("%w: %d tiles, at most %d", ErrTooLarge, tiles, l.Tiles)
	}
	if c != 1 && c != 3 {
		return fmt.Errorf("%w: %d components; greyscale (1) and colour (3) are supported", ErrUnsupported, c)
	}
	for i := 0; i < c; i++ {
		ssiz, xr, yr := s[36+3*i], s[37+3*i], s[38+3*i]
		if ssiz != 7 {
			return fmt.Errorf("%w: component %d is not 8-bit unsigned (Ssiz %02X)", ErrUnsupported, i, ssiz)
		}
		if xr != 1 || yr != 1 {
			return fmt.Errorf("%w: component %d is subsampled", ErrUnsupported, i)
		}
	}
	info.Width, info.Height, info.Components, info.Tiles = int(w), int(h), c, int(tiles)
	return nil
}

// checkCOD reads a coding style default segment (A.6.1): Scod (1),
// progression order (1), layers (2), multiple component transform (1),
// then the SPcod parameters.
func (l Limits) checkCOD(s []byte, info *Info, main bool) error {
	if len(s) < 10 {
		return fmt.Errorf("%w: COD of %d bytes", ErrCorrupt, len(s))
	}
	scod := s[0]
	if s[1] > 4 {
		return fmt.Errorf("%w: progression order %d", ErrCorrupt, s[1])
	}
	layers := int(binary.BigEndian.Uint16(s[2:]))
	if layers == 0 || layers > l.Layers {
		return fmt.Errorf("%w: %d quality layers, 1 to %d supported", ErrUnsupported, layers, l.Layers)
	}
	levels, err := l.checkSPcod(s[5:], scod&1 != 0)
	if err != nil {
		return err
	}
	if main {
		info.Levels, info.Layers, info.Reversible = levels, layers, s[9] == 1
	}
	return nil
}

// checkCOC reads a coding style component segment (A.6.2): Ccoc (1 byte,
// 2 when there are 257 or more components), Scoc (1), SPcoc.
func (l Limits) checkCOC(s []byte, components int) error {
	if len(s) < 2 || int(s[0]) >= components {
		return fmt.Errorf("%w: COC for a component that does not exist", ErrCorrupt)
	}
	_, err := l.checkSPcod(s[2:], s[1]&1 != 0)
	return err
}

// checkSPcod reads the parameters COD and COC share (Table A.15):
// decomposition levels, code-block width and height exponents (offset by
// 2, each 2..10, sum at most 12), code-block style, transform, and one
// precinct size byte per resolution when precincts are signalled.
func (l Limits) checkSPcod(p []byte, precincts bool) (int, error) {
	if len(p) < 5 {
		return 0, fmt.Errorf("%w: coding style of %d bytes", ErrCorrupt, len(p))
	}
	levels := int(p[0])
	if levels > l.Levels {
		return 0, fmt.Errorf("%w: %d decomposition levels, at most %d", ErrUnsupported, levels, l.Levels)
	}
	if p[1] > 8 || p[2] > 8 || p[1]+p[2] > 8 {
		return 0, fmt.Errorf("%w: code-block size exponents %d, %d", ErrCorrupt, p[1]+2, p[2]+2)
	}
	if p[3]&0xC0 != 0 {
		return 0, fmt.Errorf("%w: code-block style %02X", ErrCorrupt, p[3])
	}
	if p[4] > 1 {
		return 0, fmt.Errorf("%w: wavelet transform %d", ErrUnsupported, p[4])
	}
	want := 5
	if precincts {
		want += levels + 1
	}
	if len(p) != want {
		return 0, fmt.Errorf("%w: coding style of %d bytes, want %d", ErrCorrupt, len(p), want)
	}
	return levels, nil
}
