package face

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/trust"
)

// allocated is the number of bytes f allocates (runtime.MemStats
// TotalAlloc), a count rather than a time.
func allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// The 2.4 KB file of issue 14 (a valid small codestream in the first jp2c
// box, a second one claiming 16000×16000 or 60000×60000 pixels) is
// refused by Inspect, and Decode refuses it allocating next to nothing.
// Before, Inspect checked the first codestream and go-jpeg2000 decoded the
// second: 5 GB and a minute, or the process killed.
func TestSecondCodestreamIsRefusedInBoundedMemory(t *testing.T) {
	for _, side := range []int{16000, 60000} {
		b := twoCodestreams(t, side, side)
		if len(b) > 2500 {
			t.Fatalf("%d: the file is %d bytes", side, len(b))
		}
		if _, err := Inspect(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "second codestream") {
			t.Fatalf("%d: Inspect = %v, want a refused second codestream", side, err)
		}
		var err error
		n := allocated(func() { _, err = Decode(b) })
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%d: Decode = %v", side, err)
		}
		if n > 64<<10 {
			t.Errorf("%d: refusing the file allocated %d bytes", side, n)
		}
	}
}

// The box structure is parsed strictly: boxes tile the file exactly,
// there is one header and one codestream box, nothing after EOC.
func TestBoxStructureIsStrict(t *testing.T) {
	photo := readTestdata(t, simulatorPhoto)
	cs := simulatorCodestream(t)
	head := photo[:len(photo)-len(cs)-8] // signature, ftyp, jp2h
	jp2c := func(b []byte) []byte { return appendBox(nil, "jp2c", b) }
	xl := func(typ string, body []byte, l uint64) []byte {
		b := be32(nil, 1)
		b = append(b, typ...)
		b = binary.BigEndian.AppendUint64(b, l)
		return append(b, body...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := []struct {
		name string
		b    []byte
		want error // nil: accepted
	}{
		{"as stored", photo, nil},
		{"codestream box of length 0 (to the end)", cat(head, be32(nil, 0), []byte("jp2c"), cs), nil},
		{"codestream box with XLBox", cat(head, xl("jp2c", cs, uint64(16+len(cs)))), nil},
		{"an xml box after the codestream", cat(photo, appendBox(nil, "xml ", []byte("<a/>"))), nil},
		{"second codestream, same size", cat(photo, jp2c(cs)), ErrCorrupt},
		{"second codestream of length 0", cat(photo, be32(nil, 0), []byte("jp2c"), claiming(cs, 16000, 16000)), ErrCorrupt},
		{"second codestream with XLBox", cat(photo, xl("jp2c", cs, uint64(16+len(cs)))), ErrCorrupt},
		{"one trailing byte", cat(photo, []byte{0}), ErrCorrupt},
		{"seven trailing bytes", cat(photo, make([]byte, 7)), ErrCorrupt},
		{"XLBox below its header", cat(head, xl("jp2c", cs, 15)), ErrCorrupt},
		{"XLBox past the end", cat(head, xl("jp2c", cs, uint64(17+len(cs)))), ErrCorrupt},
		{"XLBox of 2^64-1", cat(head, xl("jp2c", cs, ^uint64(0))), ErrCorrupt},
		{"LBox 4", cat(head, be32(nil, 4), []byte("jp2c"), cs), ErrCorrupt},
		{"LBox past the end", cat(head, be32(nil, 9+len(cs)), []byte("jp2c"), cs), ErrCorrupt},
		{"codestream before the header", cat(photo[:12], jp2c(cs), photo[12:len(photo)-len(cs)-8]), ErrCorrupt},
		{"second header box", cat(head, photo[32:77], jp2c(cs)), ErrCorrupt},
		{"no codestream box", head, ErrCorrupt},
		{"image header at the top level", cat(head, photo[40:62], jp2c(cs)), ErrCorrupt},
		{"palette in the header", withHeaderBox(t, photo, appendBox(nil, "pclr", []byte{0, 1, 1, 7, 0})), ErrUnsupported},
		{"component map in the header", withHeaderBox(t, photo, appendBox(nil, "cmap", []byte{0, 0, 1, 0})), ErrUnsupported},
		{"second image header", withHeaderBox(t, photo, photo[40:62]), ErrCorrupt},
		{"channel definition of channel 5", withHeaderBox(t, photo, appendBox(nil, "cdef", []byte{0, 1, 0, 5, 0, 0, 0, 1})), ErrCorrupt},
		{"channel definition, identity", withHeaderBox(t, photo, appendBox(nil, "cdef", []byte{0, 1, 0, 0, 0, 0, 0, 1})), nil},
		{"bytes after EOC in the box", cat(head, jp2c(cat(cs, []byte{0}))), ErrCorrupt},
		{"codestream after EOC in the box", cat(head, jp2c(cat(cs, claiming(cs, 16000, 16000)))), ErrCorrupt},
		{"bare codestream", cs, nil},
		{"bare codestream, bytes after EOC", cat(cs, []byte{0xFF, 0xD9}), ErrCorrupt},
		{"bare codestream, a second one after EOC", cat(cs, claiming(cs, 60000, 60000)), ErrCorrupt},
	}
	for _, c := range cases {
		_, err := Inspect(c.b)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: Inspect = %v, want %v", c.name, err, c.want)
		}
		if c.want == nil {
			if img, err := Decode(c.b); err != nil || img.Bounds().Dx() != 90 {
				t.Errorf("%s: Decode = %v", c.name, err)
			}
		}
	}
}

// withHeaderBox is photo with box appended inside its JP2 header box.
func withHeaderBox(t *testing.T, photo, box []byte) []byte {
	t.Helper()
	const at, l = 32, 45 // the simulator photo's jp2h
	if string(photo[at+4:at+8]) != "jp2h" || binary.BigEndian.Uint32(photo[at:]) != l {
		t.Fatal("the simulator photo's header box moved")
	}
	out := append([]byte(nil), photo[:at]...)
	out = be32(out, l+len(box))
	out = append(out, photo[at+4:at+l]...)
	out = append(out, box...)
	return append(out, photo[at+l:]...)
}

// The cap on what the decoder builds is checked against the codestream
// that is decoded: samples, code-blocks, precincts and packets.
func TestCostCapIsCheckedBeforeDecoding(t *testing.T) {
	body := noise(2000, 2)
	cases := []struct {
		name string
		p    j2k
		want error
	}{
		{"colour 1024×1024: 3 Mi samples", j2k{w: 1024, h: 1024, comps: 3, levels: 5}, ErrTooLarge},
		{"colour 590×590", j2k{w: 590, h: 590, comps: 3, levels: 5}, nil},
		{"4×4 code-blocks on 1024×1024", j2k{w: 1024, h: 1024, comps: 1, levels: 5, cbx: 2, cby: 2}, ErrTooLarge},
		{"8×8 code-blocks on 1024×1024", j2k{w: 1024, h: 1024, comps: 1, levels: 5, cbx: 3, cby: 3}, nil},
		{"2×2 precincts on 512×512", j2k{w: 512, h: 512, comps: 1, levels: 5, pp: 0x11}, ErrTooLarge},
		{"16×16 precincts on 1024×1024, 64 layers", j2k{w: 1024, h: 1024, comps: 1, levels: 5, pp: 0x44, layers: 64}, ErrTooLarge},
		{"64×64 precincts on 1024×1024, 64 layers", j2k{w: 1024, h: 1024, comps: 1, levels: 5, pp: 0x66, layers: 64}, nil},
		{"1024 tiles", j2k{w: 1024, h: 1024, comps: 1, levels: 5, tileW: 32, tileH: 32}, nil},
		{"4096 tiles", j2k{w: 1024, h: 1024, comps: 1, levels: 2, tileW: 16, tileH: 16}, ErrTooLarge},
	}
	for _, c := range cases {
		c.p.body = body
		b := wrapJP2(c.p.w, c.p.h, c.p.comps, buildJ2K(c.p))
		_, err := Inspect(b)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: Inspect = %v, want %v", c.name, err, c.want)
		}
		if c.want != nil {
			n := allocated(func() { _, err = Decode(b) })
			if !errors.Is(err, c.want) || n > 64<<10 {
				t.Errorf("%s: Decode = %v after allocating %d bytes", c.name, err, n)
			}
		}
	}
	// Every test image is well within the cap.
	for _, name := range testImages(t) {
		if _, err := (Limits{CodeBlocks: 1024, Precincts: 1024, Packets: 1024}).Inspect(readTestdata(t, name)); err != nil {
			t.Errorf("%s under a cap of 1024: %v", name, err)
		}
	}
}

// Every hostile input is refused or decoded within the memory target.
func TestHostileInputsDecodeWithinBudget(t *testing.T) {
	for name, b := range hostileInputs(t) {
		mustRefuse := strings.Contains(name, "refused") || strings.HasPrefix(name, "two-") || strings.HasPrefix(name, "trailing")
		if _, err := Inspect(b); mustRefuse && err == nil {
			t.Errorf("%s: Inspect accepted it", name)
			continue // the decoder might not survive it
		}
		var err error
		n := allocated(func() { _, err = Decode(b) })
		refused := errors.Is(err, ErrTooLarge) || errors.Is(err, ErrCorrupt) && strings.Contains(err.Error(), "codestream")
		if mustRefuse {
			if !refused || n > 64<<10 {
				t.Errorf("%s: %v after allocating %d bytes, want refused up front", name, err, n)
			}
			continue
		}
		if refused {
			t.Errorf("%s: refused (%v), but it is within the cap", name, err)
		}
		// TotalAlloc counts every allocation, freed or not: the peak
		// in use is lower (BenchmarkDecodeHostile reports it).
		if n > 128<<20 {
			t.Errorf("%s: allocated %d MiB in all", name, n>>20)
		}
	}
}

func TestDecodeVerifiedDecodesOnlyASignedPhoto(t *testing.T) {
	photo := readTestdata(t, simulatorPhoto)
	pass := []trust.Check{{Name: trust.CheckSurfaceFace, Result: trust.Pass}}
	if img, err := DecodeVerified(photo, pass); err != nil || img.Bounds().Dx() != 90 {
		t.Fatalf("signed photo: %v", err)
	}
	hostile := twoCodestreams(t, 60000, 60000)
	for name, checks := range map[string][]trust.Check{
		"failed":      {{Name: trust.CheckSurfaceFace, Result: trust.Fail, Detail: "RSA verification error"}},
		"unknown":     {{Name: trust.CheckSurfaceFace, Result: trust.Unknown}},
		"not checked": {{Name: trust.CheckSurfaceMyNumberImage, Result: trust.Pass}},
		"none":        nil,
	} {
		for _, b := range [][]byte{photo, hostile} {
			img, err := DecodeVerified(b, checks)
			if img != nil || !errors.Is(err, ErrUnverified) || !strings.Contains(err.Error(), "not decoded: signature not verified") {
				t.Errorf("%s: %v, %v", name, img, err)
			}
		}
	}
}

// An unverified photo is exported as stored, never decoded.
func TestUnverifiedPhotoIsExportedAsStored(t *testing.T) {
	hostile := twoCodestreams(t, 60000, 60000)
	failed := []trust.Check{{Name: trust.CheckSurfaceFace, Result: trust.Fail}}
	ex, err := Exports(Images{Photo: hostile}, failed, ExportOptions{Parts: []Part{PartPhoto}, Unverified: true})
	if err != nil || len(ex) != 1 || ex[0].Verified || ex[0].Filename != "photo.jp2" || !bytes.Equal(ex[0].Data, hostile) {
		t.Fatalf("Exports = %+v, %v", ex, err)
	}
	if _, err := Exports(Images{Photo: hostile}, failed, ExportOptions{Parts: []Part{PartPhoto}}); !errors.Is(err, ErrUnverified) {
		t.Errorf("without Unverified: %v", err)
	}
}

// A reserved marker (FF30–FF3F) has no segment, and go-jpeg2000 reads the
// two bytes after it as the next marker. A scan that took them as a
// length would skip a second SIZ hidden behind one, which go-jpeg2000
// then takes over the first: such markers are refused. So is a tile part
// of length 0, after whose SOT go-jpeg2000 reads markers from the packet
// data.
func TestMarkersTheDecoderReadsOtherwiseAreRefused(t *testing.T) {
	cs := simulatorCodestream(t)
	const sizEnd = 2 + 2 + 41 // SOC, SIZ marker, Lsiz 41
	if binary.BigEndian.Uint16(cs[4:]) != 41 {
		t.Fatal("the simulator photo's SIZ changed")
	}
	hidden := claiming(cs, 60000, 60000)[2:sizEnd] // FF51, then the segment
	b := append([]byte(nil), cs[:sizEnd]...)
	b = append(b, 0xFF, 0x30) // to a lax reader: a marker without a segment
	start := len(b)           // to a strict one: FF51 = the length from here
	b = append(b, hidden...)
	com := 0xFF51 - (len(b) + 4 - start) + 2 // a comment up to where the "length" ends
	b = be16(be16(append(b, 0xFF, 0x64), com), 1)
	b = append(b, make([]byte, com-4)...)
	if len(b) != start+0xFF51 {
		t.Fatalf("built %d bytes, want %d", len(b), start+0xFF51)
	}
	b = append(b, cs[sizEnd:]...)
	if _, err := Inspect(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "reserved marker") {
		t.Fatalf("a SIZ hidden behind FF30: Inspect = %v", err)
	}
	if n := allocated(func() { _, _ = Decode(b) }); n > 256<<10 {
		t.Errorf("refusing it allocated %d bytes", n)
	}

	z := append([]byte(nil), cs...)
	sot := bytes.Index(z, []byte{0xFF, 0x90, 0x00, 0x0A})
	binary.BigEndian.PutUint32(z[sot+6:], 0)
	if _, err := Inspect(z); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Psot 0: Inspect = %v", err)
	}
}
