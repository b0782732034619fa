package face

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"testing"
)

// j2k describes a codestream that buildJ2K writes: headers as chosen, and
// a packet body of arbitrary bytes (the decoder makes of them what it can).
type j2k struct {
	w, h, comps      int
	tileW, tileH     int  // 0: one tile
	levels, layers   int  // decomposition levels, quality layers
	cbx, cby         int  // code-block exponents (2..10)
	pp               byte // precinct byte for every resolution (PPy<<4|PPx); 0: none signalled
	irreversible     bool // 9/7 and the irreversible colour transform
	body             []byte
	trailing         []byte // bytes after EOC
	omitEOC          bool
	tilePartsPerTile int
}

func be16(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func be32(b []byte, v int) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

// buildJ2K writes SOC, SIZ, COD, QCD, one tile part per tile sharing the
// body, EOC.
func buildJ2K(p j2k) []byte {
	if p.tileW == 0 {
		p.tileW, p.tileH = p.w, p.h
	}
	if p.layers == 0 {
		p.layers = 1
	}
	if p.cbx == 0 {
		p.cbx, p.cby = 6, 6
	}
	b := []byte{0xFF, 0x4F}
	// SIZ
	b = be16(append(b, 0xFF, 0x51), 38+3*p.comps)
	b = be16(b, 0)
	for _, v := range []int{p.w, p.h, 0, 0, p.tileW, p.tileH, 0, 0} {
		b = be32(b, v)
	}
	b = be16(b, p.comps)
	for i := 0; i < p.comps; i++ {
		b = append(b, 7, 1, 1)
	}
	// COD
	scod, npp := byte(0), 0
	if p.pp != 0 {
		scod, npp = 1, p.levels+1
	}
	mct, transform := byte(0), byte(1)
	if p.comps == 3 {
		mct = 1
	}
	if p.irreversible {
		transform = 0
	}
	b = be16(append(b, 0xFF, 0x52), 12+npp)
	b = append(b, scod, 0)
	b = be16(b, p.layers)
	b = append(b, mct, byte(p.levels), byte(p.cbx-2), byte(p.cby-2), 0, transform)
	for i := 0; i < npp; i++ {
		b = append(b, p.pp)
	}
	// QCD
	bands := 3*p.levels + 1
	if p.irreversible {
		b = be16(append(b, 0xFF, 0x5C), 3+2*bands)
		b = append(b, 2<<5|2)
		for i := 0; i < bands; i++ {
			b = be16(b, 9<<11|0x100)
		}
	} else {
		b = be16(append(b, 0xFF, 0x5C), 3+bands)
		b = append(b, 2<<5)
		for i := 0; i < bands; i++ {
			b = append(b, 9<<3)
		}
	}
	tiles := ((p.w + p.tileW - 1) / p.tileW) * ((p.h + p.tileH - 1) / p.tileH)
	parts := max(p.tilePartsPerTile, 1)
	n := tiles * parts
	per := len(p.body) / n
	for t := 0; t < n; t++ {
		data := p.body[t*per : (t+1)*per]
		b = append(b, 0xFF, 0x90, 0, 10)
		b = be16(b, t/parts)
		b = be32(b, 14+len(data))
		b = append(b, byte(t%parts), byte(parts), 0xFF, 0x93)
		b = append(b, data...)
	}
	if !p.omitEOC {
		b = append(b, 0xFF, 0xD9)
	}
	return append(b, p.trailing...)
}

// appendBox appends a box of type typ around body.
func appendBox(b []byte, typ string, body []byte) []byte {
	b = be32(b, 8+len(body))
	return append(append(b, typ...), body...)
}

// wrapJP2 puts codestreams into a JP2 file whose header box describes the
// first; each codestream gets its own jp2c box.
func wrapJP2(w, h, comps int, codestreams ...[]byte) []byte {
	b := append([]byte(nil), jp2Signature...)
	b = appendBox(b, "ftyp", []byte("jp2 \x00\x00\x00\x00jp2 "))
	ihdr := be16(be32(be32(nil, h), w), comps)
	ihdr = append(ihdr, 7, 7, 0, 0)
	cs := 17
	if comps == 3 {
		cs = 16
	}
	colr := be32([]byte{1, 0, 0}, cs)
	b = appendBox(b, "jp2h", appendBox(appendBox(nil, "ihdr", ihdr), "colr", colr))
	for _, c := range codestreams {
		b = appendBox(b, "jp2c", c)
	}
	return b
}

// noise is n deterministic pseudo-random bytes without 0xFF (so that they
// never form a marker) from seed.
func noise(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Intn(255))
	}
	return b
}

// simulatorCodestream is the codestream of the simulator's photo (90×110
// greyscale), cut from its jp2c box.
func simulatorCodestream(t testing.TB) []byte {
	t.Helper()
	b := readTestdata(t, simulatorPhoto)
	i := bytes.Index(b, []byte{0xFF, 0x4F, 0xFF, 0x51})
	if i < 0 {
		t.Fatal("no SOC SIZ in the simulator photo")
	}
	return b[i:]
}

// claiming is the codestream cs with its SIZ (and its single tile) set to
// w×h pixels.
func claiming(cs []byte, w, h int) []byte {
	cs = append([]byte(nil), cs...)
	siz := 6 // SOC (2), SIZ marker and length (4), Rsiz (2) follow
	for i, v := range []int{w, h, 0, 0, w, h} {
		binary.BigEndian.PutUint32(cs[siz+2+4*i:], uint32(v))
	}
	return cs
}

// twoCodestreams is the simulator photo (a valid 90×110 codestream in the
// first jp2c box) followed by a second jp2c box holding the same
// codestream claiming w×h: the file of issue 14, finding 2.
func twoCodestreams(t testing.TB, w, h int) []byte {
	t.Helper()
	cs := simulatorCodestream(t)
	return appendBox(readTestdata(t, simulatorPhoto), "jp2c", claiming(cs, w, h))
}

// hostileInputs are files of at most 16 KiB built to make a decoder
// allocate: a second codestream, and codestreams at the edges of the cap
// (the most samples, code-blocks, precincts, packets, tiles and levels it
// admits) with arbitrary packet data.
func hostileInputs(t testing.TB) map[string][]byte {
	t.Helper()
	body := noise(16000, 1)
	in := map[string][]byte{
		"two-codestreams-16000": twoCodestreams(t, 16000, 16000),
		"two-codestreams-60000": twoCodestreams(t, 60000, 60000),
		"trailing-after-eoc":    append(append([]byte(nil), simulatorCodestream(t)...), claiming(simulatorCodestream(t), 16000, 16000)...),
	}
	for name, p := range map[string]j2k{
		"grey-1024-53":                   {w: 1024, h: 1024, comps: 1, levels: 5},
		"grey-1024-97":                   {w: 1024, h: 1024, comps: 1, levels: 5, irreversible: true},
		"colour-590-97":                  {w: 590, h: 590, comps: 3, levels: 5, irreversible: true},
		"colour-590-53":                  {w: 590, h: 590, comps: 3, levels: 5},
		"grey-1024-cb8-64layers":         {w: 1024, h: 1024, comps: 1, levels: 5, cbx: 3, cby: 3, layers: 64},
		"colour-576-cb8-97":              {w: 576, h: 576, comps: 3, levels: 5, cbx: 3, cby: 3, layers: 4, irreversible: true},
		"colour-576-precincts-97":        {w: 576, h: 576, comps: 3, levels: 5, pp: 0x44, layers: 4, irreversible: true},
		"grey-1024-12levels":             {w: 1024, h: 1024, comps: 1, levels: 12, irreversible: true},
		"grey-1024-precincts32-15layers": {w: 1024, h: 1024, comps: 1, levels: 5, pp: 0x55, layers: 15},
		"grey-1024-precincts64-64layers": {w: 1024, h: 1024, comps: 1, levels: 5, pp: 0x66, layers: 64},
		"colour-590-precincts32-8layers": {w: 590, h: 590, comps: 3, levels: 5, pp: 0x55, layers: 8, cbx: 4, cby: 4, irreversible: true},
		"grey-1024-1024tiles":            {w: 1024, h: 1024, comps: 1, levels: 5, tileW: 32, tileH: 32},
		"grey-1024-cb4-refused":          {w: 1024, h: 1024, comps: 1, levels: 5, cbx: 2, cby: 2},
		"grey-512-precincts2-refused":    {w: 512, h: 512, comps: 1, levels: 5, pp: 0x11},
		"colour-1024-refused":            {w: 1024, h: 1024, comps: 3, levels: 5},
	} {
		p.body = body
		if p.tileW != 0 {
			p.body = body[:1024]
		}
		in[name] = wrapJP2(p.w, p.h, p.comps, buildJ2K(p))
	}
	for name, b := range in {
		if len(b) > 16<<10 {
			t.Fatalf("hostile input %s is %d bytes, over 16 KiB", name, len(b))
		}
	}
	return in
}
