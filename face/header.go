package face

import (
	"encoding/binary"
	"fmt"
)

// The size cap. A card photo is a few kilobytes (the whole card-face file
// must fit the 15-bit offsets of READ BINARY, so it is under 32 KiB) and a
// few hundred pixels a side, greyscale or colour; the caps leave room for
// photos from other sources while keeping the decoder's memory bounded.
//
// The decoder holds about 40 bytes per sample at once (32-bit planes of
// coefficients and of the picture, 64-bit ones for 9/7 and the colour
// transform, the RGBA result), so MaxSamples bounds that to about 40 MiB;
// it admits a 1024×1024 greyscale or 590×590 colour picture, nine times a
// 300×400 colour card photo. The decoder also builds a structure per
// code-block and precinct and parses a header per packet, which a tiny
// file can make very many of (4×4 code-blocks, 1×1 precincts, 64 layers):
// MaxCodeBlocks, MaxPrecincts and MaxPackets bound those, with room for
// every parameter set in testdata/jp2. BenchmarkDecodeHostile measures the
// peak.
const (
	MaxInputBytes = 1 << 20 // bytes of JP2 file or codestream
	MaxDimension  = 1024    // pixels per side
	MaxPixels     = 1 << 20 // width × height
	MaxSamples    = 1 << 20 // width × height × components
	MaxTiles      = 1024
	MaxLevels     = 12      // wavelet decomposition levels (ISO/IEC 15444-1 allows 32)
	MaxLayers     = 64      // quality layers
	MaxCodeBlocks = 1 << 14 // code-blocks, all tiles and components
	MaxPrecincts  = 1 << 14 // precincts, per sub-band, all tiles and components
	MaxPackets    = 1 << 16 // precincts × layers
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
	Samples    int
	CodeBlocks int
	Precincts  int
	Packets    int
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
	set(&l.Samples, MaxSamples)
	set(&l.CodeBlocks, MaxCodeBlocks)
	set(&l.Precincts, MaxPrecincts)
	set(&l.Packets, MaxPackets)
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
//
// A JP2 file must hold exactly one codestream box and one header box, and
// its boxes must tile the file exactly; a codestream must end at its EOC
// marker. A file with a second codestream or trailing bytes is refused
// (ErrCorrupt): a decoder might take the other codestream, which the cap
// was never checked against.
func Inspect(b []byte) (Info, error) { return Limits{}.Inspect(b) }

// Inspect is the package-level Inspect under the cap l.
func (l Limits) Inspect(b []byte) (Info, error) {
	p, err := l.inspect(b)
	return p.info, err
}

// accepted is what inspect accepted: what the headers say, and the parts
// of the file the decoder is given.
type accepted struct {
	info Info
	cs   []byte // the codestream, SOC up to and including EOC
	jp2h []byte // the JP2 header box's contents; nil for a bare codestream
}

func (l Limits) inspect(b []byte) (accepted, error) {
	l = l.orDefault()
	if len(b) > l.InputBytes {
		return accepted{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), l.InputBytes)
	}
	var a accepted
	a.cs = b
	var ihdr *jp2Header
	if len(b) >= len(jp2Signature) && string(b[:len(jp2Signature)]) == string(jp2Signature) {
		a.info.Container = true
		var err error
		if a.cs, a.jp2h, ihdr, err = jp2Boxes(b); err != nil {
			return accepted{}, err
		}
	} else if len(b) < 2 || b[0] != 0xFF || b[1] != 0x4F {
		return accepted{}, fmt.Errorf("%w: neither a JP2 signature nor a codestream SOC marker", ErrFormat)
	}
	if err := l.scanCodestream(a.cs, &a.info); err != nil {
		return accepted{}, err
	}
	if ihdr != nil {
		if ihdr.width != a.info.Width || ihdr.height != a.info.Height || ihdr.components != a.info.Components {
			return accepted{}, fmt.Errorf("%w: JP2 header says %d×%d×%d, codestream %d×%d×%d", ErrCorrupt,
				ihdr.width, ihdr.height, ihdr.components, a.info.Width, a.info.Height, a.info.Components)
		}
		if err := ihdr.checkCdef(); err != nil {
			return accepted{}, err
		}
	}
	return a, nil
}

// decoderInput is the file the JPEG 2000 decoder is given: the accepted
// codestream, in a JP2 file rebuilt from the signature, the accepted header
// box and one codestream box, so that the decoder cannot see anything
// Inspect did not check.
func (a accepted) decoderInput() []byte {
	if a.jp2h == nil {
		return a.cs
	}
	out := make([]byte, 0, len(jp2Signature)+16+len(a.jp2h)+len(a.cs))
	out = append(out, jp2Signature...)
	out = binary.BigEndian.AppendUint32(out, uint32(8+len(a.jp2h)))
	out = append(out, "jp2h"...)
	out = append(out, a.jp2h...)
	out = binary.BigEndian.AppendUint32(out, uint32(8+len(a.cs)))
	out = append(out, "jp2c"...)
	return append(out, a.cs...)
}

type jp2Header struct {
	width, height, components int
	cdef                      []byte // the channel definition box's contents, if any
}

// jp2Boxes walks the top-level boxes of a JP2 file (after its signature
// box) and returns the contents of its one contiguous-codestream box (jp2c)
// and of its one JP2 header box (jp2h), with the image header read from
// the latter. Boxes other readers know but that belong inside the header
// box are refused at the top level; other boxes (ftyp, xml, uuid, ...) are
// skipped. The boxes must cover the file exactly.
func jp2Boxes(b []byte) (cs, jp2h []byte, hdr *jp2Header, err error) {
	nCS := 0
	for off := len(jp2Signature); off < len(b); {
		typ, body, next, err := box(b, off)
		if err != nil {
			return nil, nil, nil, err
		}
		switch typ {
		case "jp2h":
			if hdr != nil {
				return nil, nil, nil, fmt.Errorf("%w: a second JP2 header box at %d", ErrCorrupt, off)
			}
			if nCS > 0 {
				return nil, nil, nil, fmt.Errorf("%w: JP2 header box after the codestream", ErrCorrupt)
			}
			if hdr, err = parseJP2H(body); err != nil {
				return nil, nil, nil, err
			}
			jp2h = body
		case "jp2c":
			if nCS++; nCS > 1 {
				return nil, nil, nil, fmt.Errorf("%w: a second codestream box at %d; a JP2 file must hold exactly one", ErrCorrupt, off)
			}
			if hdr == nil {
				return nil, nil, nil, fmt.Errorf("%w: codestream box before the JP2 header box", ErrCorrupt)
			}
			cs = body
		case "jP  ", "ihdr", "colr", "res ", "bpcc", "pclr", "cmap", "cdef":
			return nil, nil, nil, fmt.Errorf("%w: box %q at the top level of a JP2 file", ErrCorrupt, typ)
		}
		off = next
	}
	if hdr == nil {
		return nil, nil, nil, fmt.Errorf("%w: JP2 file without a header box", ErrCorrupt)
	}
	if nCS == 0 {
		return nil, nil, nil, fmt.Errorf("%w: JP2 file without a codestream box", ErrCorrupt)
	}
	return cs, jp2h, hdr, nil
}

// box reads the box at off: LBox (4), TBox (4), XLBox (8) when LBox is 1;
// LBox 0 means the box runs to the end of the file or superbox (ISO/IEC
// 15444-1 I.4). A length that is below the header's or runs past the end,
// and a box header cut short, are errors.
func box(b []byte, off int) (typ string, body []byte, next int, err error) {
	if len(b)-off < 8 {
		return "", nil, 0, fmt.Errorf("%w: %d trailing bytes at %d, too few for a box", ErrCorrupt, len(b)-off, off)
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

// parseJP2H reads the JP2 header superbox: exactly one image header box
// (ihdr: HEIGHT (4), WIDTH (4), NC (2), BPC (1), C (1), UnkC (1), IPR (1)),
// colour specifications, and at most one channel definition. Palettes
// (pclr, cmap) are refused: a card photo has none, and a decoder expands a
// palette into as many planes as the component map lists.
func parseJP2H(b []byte) (*jp2Header, error) {
	var hdr *jp2Header
	var cdef []byte
	sawCdef := false
	for off := 0; off < len(b); {
		typ, body, next, err := box(b, off)
		if err != nil {
			return nil, err
		}
		switch typ {
		case "ihdr":
			if hdr != nil {
				return nil, fmt.Errorf("%w: a second image header box", ErrCorrupt)
			}
			if len(body) != 14 {
				return nil, fmt.Errorf("%w: image header box of %d bytes", ErrCorrupt, len(body))
			}
			hdr = &jp2Header{
				height:     int(binary.BigEndian.Uint32(body[0:])),
				width:      int(binary.BigEndian.Uint32(body[4:])),
				components: int(binary.BigEndian.Uint16(body[8:])),
			}
		case "colr":
			if len(body) < 3 || body[0] == 1 && len(body) != 7 {
				return nil, fmt.Errorf("%w: colour specification box of %d bytes", ErrCorrupt, len(body))
			}
		case "pclr", "cmap":
			return nil, fmt.Errorf("%w: palette images (%q box)", ErrUnsupported, typ)
		case "cdef":
			if sawCdef {
				return nil, fmt.Errorf("%w: a second channel definition box", ErrCorrupt)
			}
			sawCdef, cdef = true, body
		case "jP  ", "jp2h", "jp2c":
			return nil, fmt.Errorf("%w: box %q inside the JP2 header box", ErrCorrupt, typ)
		}
		off = next
	}
	if hdr == nil {
		return nil, fmt.Errorf("%w: JP2 header without an image header box", ErrCorrupt)
	}
	hdr.cdef = cdef // a present box's contents are never nil, if empty
	return hdr, nil
}

// checkCdef checks the channel definition box (I.5.3.6): N (2), then N
// entries of channel, type and association (2 each), every one naming a
// component that exists.
func (h *jp2Header) checkCdef() error {
	if h.cdef == nil {
		return nil
	}
	b := h.cdef
	if len(b) < 2 {
		return fmt.Errorf("%w: channel definition box of %d bytes", ErrCorrupt, len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	if n == 0 || n > h.components || len(b) != 2+6*n {
		return fmt.Errorf("%w: channel definition box of %d bytes for %d channels", ErrCorrupt, len(b), n)
	}
	for i := 0; i < n; i++ {
		e := b[2+6*i:]
		cn, typ, asoc := int(binary.BigEndian.Uint16(e)), binary.BigEndian.Uint16(e[2:]), int(binary.BigEndian.Uint16(e[4:]))
		if cn >= h.components || typ > 2 && typ != 0xFFFF || asoc > h.components && asoc != 0xFFFF {
			return fmt.Errorf("%w: channel definition %d names a channel that does not exist", ErrCorrupt, i)
		}
	}
	return nil
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
	sc := &scanner{Limits: l, info: info, coding: coding{cbx: 10, cby: 10}}
	for r := range sc.coding.ppx {
		sc.coding.ppx[r], sc.coding.ppy[r] = 15, 15
	}
	return sc.scan(b)
}

// scanner is the state of one scanCodestream: the image and tile geometry
// of SIZ, and the most costly coding parameters of any COD and COC.
type scanner struct {
	Limits
	info   *Info
	geom   geometry
	coding coding
}

func (sc *scanner) scan(b []byte) error {
	l, info := sc.Limits, sc.info
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
			if err := sc.checkSIZ(seg); err != nil {
				return err
			}
			sawSIZ, csiz = true, info.Components
		case mCOD:
			if !sawSIZ {
				return fmt.Errorf("%w: COD before SIZ", ErrCorrupt)
			}
			if err := sc.checkCOD(seg, true); err != nil {
				return err
			}
			sawCOD = true
		case mCOC:
			if !sawSIZ {
				return fmt.Errorf("%w: COC before SIZ", ErrCorrupt)
			}
			if err := sc.checkCOC(seg, csiz); err != nil {
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
			if off+2 != len(b) {
				return fmt.Errorf("%w: %d bytes after the codestream's EOC marker", ErrCorrupt, len(b)-off-2)
			}
			return sc.checkCost()
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
		if psot == 0 {
			// "The last tile part runs to EOC": go-jpeg2000 instead goes on
			// reading markers after the SOT segment, where a tile-part
			// header hidden in the data would escape this scan.
			return fmt.Errorf("%w: tile part of unsigned length (Psot 0)", ErrUnsupported)
		}
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
				if err := sc.checkCOD(seg, false); err != nil {
					return err
				}
			case mCOC:
				if err := sc.checkCOC(seg, csiz); err != nil {
					return err
				}
			case mSIZ, mSOT, mSOC:
				return fmt.Errorf("%w: marker %04X in a tile-part header", ErrCorrupt, m)
			}
			off = next
		}
		if psot < off-start || psot > len(b)-start {
			return fmt.Errorf("%w: tile part of %d bytes at %d", ErrCorrupt, psot, start)
		}
		off = start + psot
	}
	// A codestream cut short of EOC: the decoder takes what is there.
	return sc.checkCost()
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
	if marker <= 0xFF3F {
		// Reserved markers without a segment (ISO/IEC 15444-1 A.1.3):
		// go-jpeg2000 reads the next two bytes as a marker, this scan as
		// a length, and a segment hidden behind one would escape it.
		return 0, nil, 0, fmt.Errorf("%w: reserved marker %04X at %d", ErrCorrupt, marker, off)
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
func (sc *scanner) checkSIZ(s []byte) error {
	l, info := sc.Limits, sc.info
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
	if uint64(c)*w*h > uint64(l.Samples) {
		return fmt.Errorf("%w: %d×%d pixels of %d components, at most %d samples", ErrTooLarge, w, h, c, l.Samples)
	}
	info.Width, info.Height, info.Components, info.Tiles = int(w), int(h), c, int(tiles)
	sc.geom = geometry{xsiz, ysiz, xo, yo, xt, yt, xto, yto}
	return nil
}

// checkCOD reads a coding style default segment (A.6.1): Scod (1),
// progression order (1), layers (2), multiple component transform (1),
// then the SPcod parameters.
func (sc *scanner) checkCOD(s []byte, main bool) error {
	l, info := sc.Limits, sc.info
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
	levels, err := sc.checkSPcod(s[5:], scod&1 != 0)
	if err != nil {
		return err
	}
	sc.coding.layers = max(sc.coding.layers, layers)
	if main {
		info.Levels, info.Layers, info.Reversible = levels, layers, s[9] == 1
	}
	return nil
}

// checkCOC reads a coding style component segment (A.6.2): Ccoc (1 byte,
// 2 when there are 257 or more components), Scoc (1), SPcoc.
func (sc *scanner) checkCOC(s []byte, components int) error {
	if len(s) < 2 || int(s[0]) >= components {
		return fmt.Errorf("%w: COC for a component that does not exist", ErrCorrupt)
	}
	_, err := sc.checkSPcod(s[2:], s[1]&1 != 0)
	return err
}

// checkSPcod reads the parameters COD and COC share (Table A.15):
// decomposition levels, code-block width and height exponents (offset by
// 2, each 2..10, sum at most 12), code-block style, transform, and one
// precinct size byte per resolution when precincts are signalled.
func (sc *scanner) checkSPcod(p []byte, precincts bool) (int, error) {
	l := sc.Limits
	if len(p) < 5 {
		return 0, fmt.Errorf("%w: coding style of %d bytes", ErrCorrupt, len(p))
	}
	levels := int(p[0])
	if levels > 32 { // ISO/IEC 15444-1 Table A.20
		return 0, fmt.Errorf("%w: %d decomposition levels", ErrCorrupt, levels)
	}
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
	c := &sc.coding
	c.levels |= 1 << levels
	c.cbx, c.cby = min(c.cbx, int(p[1])+2), min(c.cby, int(p[2])+2)
	for r, pp := range p[5:] {
		c.ppx[r], c.ppy[r] = min(c.ppx[r], int(pp&0x0F)), min(c.ppy[r], int(pp>>4))
	}
	return levels, nil
}

// geometry is the image and tile geometry of SIZ (reference grid).
type geometry struct{ xsiz, ysiz, xo, yo, xt, yt, xto, yto uint64 }

// coding is the costliest coding style any COD or COC of the codestream
// allows: the decomposition-level counts seen, the smallest code-block
// exponents, the smallest precinct exponents of each resolution level, the
// most quality layers.
type coding struct {
	levels   uint64  // bit n is set when some segment has n decomposition levels
	cbx, cby int     // code-block width and height exponents (2..10)
	ppx, ppy [33]int // precinct exponents (0..15) by resolution level
	layers   int
}

// checkCost bounds what a decoder builds besides the sample planes, which
// Samples bounds: a structure per code-block, two tag trees per precinct
// and sub-band, and a packet per layer, precinct, resolution and
// component. They are counted exactly as ISO/IEC 15444-1 Annex B lays
// them out, for every tile, under the costliest coding style that any COD
// or COC of the codestream signals applied to every component, so the
// count is an upper bound whatever the decoder does with the overrides.
func (sc *scanner) checkCost() error {
	g, c, l := sc.geom, sc.coding, sc.Limits
	if c.layers == 0 || g.xt == 0 || g.yt == 0 {
		return nil // no main COD: refused by scan before this point
	}
	var cbs, precincts uint64
	nx, ny := (g.xsiz-g.xto+g.xt-1)/g.xt, (g.ysiz-g.yto+g.yt-1)/g.yt
	for ty := uint64(0); ty < ny; ty++ {
		for tx := uint64(0); tx < nx; tx++ {
			x0, x1 := max(g.xto+tx*g.xt, g.xo), min(g.xto+(tx+1)*g.xt, g.xsiz)
			y0, y1 := max(g.yto+ty*g.yt, g.yo), min(g.yto+(ty+1)*g.yt, g.ysiz)
			var worstCB, worstP uint64
			for nl := 0; nl < 64; nl++ {
				if c.levels&(1<<nl) != 0 {
					b, p := tileCost(int64(x0), int64(y0), int64(x1), int64(y1), nl, c)
					worstCB, worstP = max(worstCB, b), max(worstP, p)
				}
			}
			cbs += worstCB
			precincts += worstP
		}
	}
	comps := uint64(sc.info.Components)
	cbs, precincts = cbs*comps, precincts*comps
	packets := precincts * uint64(c.layers)
	switch {
	case cbs > uint64(l.CodeBlocks):
		return fmt.Errorf("%w: %d code-blocks, at most %d", ErrTooLarge, cbs, l.CodeBlocks)
	case precincts > uint64(l.Precincts):
		return fmt.Errorf("%w: %d precincts, at most %d", ErrTooLarge, precincts, l.Precincts)
	case packets > uint64(l.Packets):
		return fmt.Errorf("%w: %d packets, at most %d", ErrTooLarge, packets, l.Packets)
	}
	return nil
}

// tileCost counts the code-blocks and the precincts (per sub-band) of one
// tile-component with nl decomposition levels (ISO/IEC 15444-1 B.5–B.7).
func tileCost(x0, y0, x1, y1 int64, nl int, c coding) (cbs, precincts uint64) {
	for r := 0; r <= nl; r++ {
		shift := nl - r
		rx0, rx1 := ceilShift(x0, shift), ceilShift(x1, shift)
		ry0, ry1 := ceilShift(y0, shift), ceilShift(y1, shift)
		if rx1 <= rx0 || ry1 <= ry0 {
			continue
		}
		ppx, ppy := c.ppx[r], c.ppy[r]
		xcb, ycb := min(c.cbx, ppx), min(c.cby, ppy)
		bands := [][2]int64{{0, 0}}
		if r > 0 {
			ppx, ppy = max(ppx, 1), max(ppy, 1)
			xcb, ycb = min(c.cbx, ppx-1), min(c.cby, ppy-1)
			bands = [][2]int64{{1, 0}, {0, 1}, {1, 1}}
		}
		np := uint64(ceilShift(rx1, ppx)-rx0>>ppx) * uint64(ceilShift(ry1, ppy)-ry0>>ppy)
		for _, o := range bands {
			nb := shift
			if r > 0 {
				nb++
			}
			half := int64(1) << nb >> 1
			bx0, bx1 := ceilShift(x0-half*o[0], nb), ceilShift(x1-half*o[0], nb)
			by0, by1 := ceilShift(y0-half*o[1], nb), ceilShift(y1-half*o[1], nb)
			if bx1 <= bx0 || by1 <= by0 {
				continue
			}
			cbs += uint64(ceilShift(bx1, xcb)-bx0>>xcb) * uint64(ceilShift(by1, ycb)-by0>>ycb)
			precincts += np
		}
	}
	return cbs, precincts
}

// ceilShift is ⌈v / 2^s⌉ (v may be negative).
func ceilShift(v int64, s int) int64 { return -((-v) >> s) }
