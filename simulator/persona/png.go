package persona

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
)

// The card-face images (氏名, 住所, security code, 個人番号) are 1-bit
// greyscale PNGs (docs/card.md §6.4). The simulator renders digits (ASCII
// and full-width) with a 5×7 bitmap font and every other character as a
// deterministic 5×7 placeholder glyph derived from the character's code
// point: the images are stable and the right shape, not readable text.

// digitFont holds 0-9, 7 rows of 5 bits each (bit 4 = leftmost).
var digitFont = [10][7]byte{
	{0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},
	{0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
	{0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
	{0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
	{0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},
	{0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
	{0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},
	{0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	{0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
	{0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
}

func glyph(r rune) [7]byte {
	switch {
	case r >= '0' && r <= '9':
		return digitFont[r-'0']
	case r >= '０' && r <= '９':
		return digitFont[r-'０']
	case r == ' ' || r == '　':
		return [7]byte{}
	case r == '-' || r == '－' || r == 'ー':
		return [7]byte{0, 0, 0, 0x1F, 0, 0, 0}
	}
	h := sha256.Sum256([]byte(string(r)))
	var g [7]byte
	g[0], g[6] = 0x1F, 0x1F // a box, so placeholders read as characters
	for i := 1; i < 6; i++ {
		g[i] = 0x11 | h[i]&0x0E
	}
	return g
}

// textPNG renders s on one line, 6 pixels per character plus a 2-pixel
// margin, height 12 (the card's security-code and 個人番号 images are 12
// pixels high), black on white.
func textPNG(s string) []byte {
	runes := []rune(s)
	w, h := len(runes)*6+3, 12
	if w < 8 {
		w = 8
	}
	px := make([][]bool, h)
	for y := range px {
		px[y] = make([]bool, w)
	}
	for i, r := range runes {
		g := glyph(r)
		for row := 0; row < 7; row++ {
			for col := 0; col < 5; col++ {
				if g[row]&(0x10>>col) != 0 {
					px[row+2][2+i*6+col] = true
				}
			}
		}
	}
	return encodePNG1(w, h, px)
}

// encodePNG1 writes a 1-bit greyscale PNG (colour type 0, bit depth 1);
// black pixels are true. Deterministic: fixed zlib level, no ancillary chunks.
func encodePNG1(w, h int, black [][]bool) []byte {
	stride := (w + 7) / 8
	raw := make([]byte, 0, h*(stride+1))
	for y := 0; y < h; y++ {
		row := make([]byte, stride)
		for x := 0; x < w; x++ {
			if !black[y][x] { // 1 = white in greyscale
				row[x/8] |= 0x80 >> (x % 8)
			}
		}
		raw = append(raw, 0) // filter: none
		raw = append(raw, row...)
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(raw)
	zw.Close()

	var out bytes.Buffer
	out.Write([]byte{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})
	chunk := func(typ string, data []byte) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(data)))
		out.Write(l[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(l[:], c.Sum32())
		out.Write(l[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8] = 1 // bit depth
	ihdr[9] = 0 // greyscale
	chunk("IHDR", ihdr)
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}
