package face

import (
	"encoding/binary"
	"testing"
)

// fuzzLimits is a tighter cap than the default, so that each input decodes
// in milliseconds and the fuzzer explores the parsers rather than spending
// seconds on one large garbage picture (the default cap is tested by
// TestDecodeRefusesBeyondTheCapBeforeDecoding).
var fuzzLimits = Limits{Dimension: 256, Pixels: 256 * 256, Tiles: 64, Layers: 8}

// FuzzDecode: any input gives an image within the cap or an error, never a
// panic.
func FuzzDecode(f *testing.F) {
	f.Add(readTestdata(f, simulatorPhoto))
	f.Add(readTestdata(f, "lossy-97-r20.jp2"))
	f.Add(twoCodestreams(f, 16000, 16000))
	f.Add(appendBox(readTestdata(f, simulatorPhoto), "xml ", []byte("<a/>")))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := fuzzLimits.Decode(b)
		if err != nil {
			return
		}
		r := img.Bounds()
		if r.Dx() > fuzzLimits.Dimension || r.Dy() > fuzzLimits.Dimension || r.Dx()*r.Dy() > fuzzLimits.Pixels {
			t.Fatalf("decoded %v, beyond the cap", r)
		}
		if n := laxCodestreamBoxes(b); n > 1 {
			t.Fatalf("decoded a file in which a lax reader finds %d codestream boxes", n)
		}
	})
}

// laxCodestreamBoxes counts the top-level jp2c boxes of b as a lax reader
// (go-jpeg2000's) walks them: it stops at the first box it cannot read.
func laxCodestreamBoxes(b []byte) int {
	if len(b) < len(jp2Signature) || string(b[:len(jp2Signature)]) != string(jp2Signature) {
		return 0
	}
	n := 0
	for off := 0; off+8 <= len(b); {
		l, hl := uint64(binary.BigEndian.Uint32(b[off:])), uint64(8)
		if l == 1 {
			if off+16 > len(b) {
				break
			}
			l, hl = binary.BigEndian.Uint64(b[off+8:]), 16
		} else if l == 0 {
			l = uint64(len(b) - off)
		}
		if l < hl || l > uint64(len(b)-off) {
			break
		}
		if string(b[off+4:off+8]) == "jp2c" {
			n++
		}
		off += int(l)
	}
	return n
}

// FuzzDecodeAppendedBoxes appends arbitrary bytes (boxes, or not) to the
// simulator's photo: whatever they are, a file Decode accepts decodes the
// codestream Inspect checked, the 90×110 photo, and nothing else.
func FuzzDecodeAppendedBoxes(f *testing.F) {
	cs := simulatorCodestream(f)
	f.Add(appendBox(nil, "jp2c", claiming(cs, 16000, 16000)))
	f.Add(appendBox(nil, "jp2c", claiming(cs, 64, 64)))
	f.Add(append(be32(nil, 0), append([]byte("jp2c"), claiming(cs, 60000, 60000)...)...))
	f.Add(appendBox(nil, "xml ", []byte("<a/>")))
	f.Add(appendBox(nil, "jp2h", appendBox(nil, "ihdr", make([]byte, 14))))
	f.Add([]byte{0, 0, 0, 1, 'j', 'p', '2', 'c', 0, 0, 0, 0, 0, 0, 0, 16})
	f.Add([]byte{0})
	photo := readTestdata(f, simulatorPhoto)
	f.Fuzz(func(t *testing.T, tail []byte) {
		b := append(append([]byte(nil), photo...), tail...)
		img, err := fuzzLimits.Decode(b)
		if err != nil {
			return
		}
		if r := img.Bounds(); r.Dx() != 90 || r.Dy() != 110 {
			t.Fatalf("decoded %v, not the photo whose header was checked", r)
		}
		if n := laxCodestreamBoxes(b); n != 1 {
			t.Fatalf("accepted a file in which a lax reader finds %d codestream boxes", n)
		}
	})
}

// FuzzCheckPNG: the card-face PNG checker accepts only pictures within its
// cap and never panics.
func FuzzCheckPNG(f *testing.F) {
	f.Add(samplePNG(f, 27, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, err := CheckPNG(b)
		if err != nil {
			return
		}
		if w < 1 || h < 1 || w > MaxPNGDimension || h > MaxPNGDimension {
			t.Fatalf("accepted %d×%d", w, h)
		}
	})
}
