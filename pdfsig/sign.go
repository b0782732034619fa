package pdfsig

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/mynakit/mynakit/jpki"
)

// Placement is where a visible signature goes: a 1-based page and a
// rectangle in PDF points from the page's lower left corner.
type Placement struct {
	Page       int
	X, Y, W, H float64
}

// SignOptions says how to sign.
type SignOptions struct {
	// Time is the claimed signing time written to /M (zero: now). It is a
	// claim: verifiers never judge the certificate at it.
	Time time.Time
	// Reason and Location fill /Reason and /Location.
	Reason, Location string
	// Field is the signature field: an existing empty one to sign, or the
	// name of the new field (default "Signature1", "Signature2", ...).
	Field string
	// Visible, when set, places a stamp with SignerName and Time.
	Visible *Placement
	// SignerName is shown on a visible stamp (default: the certificate's
	// JPKI holder name, else its common name).
	SignerName string
	// Timestamper, when set, adds an RFC 3161 signature timestamp (B-T).
	Timestamper jpki.Timestamper
	// CRLs (DER), when set, make the signature B-LT: a second incremental
	// update adds a DSS with the certificates and these CRLs.
	CRLs [][]byte
	// Reserve is the bytes kept for the CMS in /Contents (0: 8 KiB, 24
	// KiB with a Timestamper).
	Reserve int

	byKeyID bool // name the signer by subject key ID (tests)
}

// ErrField is about the signature field asked for.
var ErrField = errors.New("signature field")

// Sign signs src with a PAdES baseline signature (SubFilter
// ETSI.CAdES.detached) as an incremental update and returns the signed
// file, whose prefix is src byte for byte. signer is called once, for the
// CMS signature (the card's transaction); the timestamp, when asked for,
// is requested after it.
func Sign(src []byte, signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, opts SignOptions) ([]byte, error) {
	d, err := Parse(src)
	if err != nil {
		return nil, err
	}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	reserve := opts.Reserve
	if reserve == 0 {
		// The CMS with two JPKI certificates is about 4 KB; a timestamp
		// token with its authority's chain adds a few more.
		reserve = 8 << 10
		if opts.Timestamper != nil {
			reserve += 16 << 10
		}
	}
	cat, catRef, err := d.Catalog()
	if err != nil {
		return nil, err
	}
	pages, err := d.Pages()
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, malformed("the document has no page")
	}
	u := newUpdate(d)
	cat = clone(cat)

	// The form.
	var af Dict
	afRef, afIsRef := cat["AcroForm"].(Ref)
	if v := d.dict(cat["AcroForm"]); v != nil {
		af = clone(v)
	} else {
		af = Dict{}
		afIsRef = false
	}
	var fields Array
	fieldsRef, fieldsIsRef := af["Fields"].(Ref)
	if a, ok := d.get(af["Fields"]).(Array); ok {
		fields = append(Array{}, a...)
	} else {
		fieldsIsRef = false
	}
	existing, names := d.findFields(fields)

	sigDict := Dict{
		"Type":      Name("Sig"),
		"Filter":    Name("Adobe.PPKLite"),
		"SubFilter": Name("ETSI.CAdES.detached"),
		"ByteRange": raw(byteRangePlaceholder),
		"Contents":  raw("<" + strings.Repeat("0", 2*reserve) + ">"),
		"M":         String{B: []byte(pdfDate(opts.Time))},
	}
	if opts.Reason != "" {
		sigDict["Reason"] = textString(opts.Reason)
	}
	if opts.Location != "" {
		sigDict["Location"] = textString(opts.Location)
	}
	sigRef := u.add(sigDict)

	if r, ok := existing[opts.Field]; ok && opts.Field != "" {
		f := d.dict(r)
		if f == nil || inheritedFT(d, f) != "Sig" {
			return nil, fmt.Errorf("%w %q is not a signature field", ErrField, opts.Field)
		}
		if f["V"] != nil {
			return nil, fmt.Errorf("%w %q is already signed", ErrField, opts.Field)
		}
		if opts.Visible != nil {
			return nil, fmt.Errorf("%w %q exists: its own rectangle is used, --visible does not apply", ErrField, opts.Field)
		}
		f = clone(f)
		f["V"] = sigRef
		// A field with a place on the page gets the stamp drawn in it.
		if rect, ok := d.get(f["Rect"]).(Array); ok && len(rect) == 4 && f["AP"] == nil {
			var v [4]float64
			for i, x := range rect {
				v[i], _ = asNumber(d.get(x))
			}
			if w, h := v[2]-v[0], v[3]-v[1]; w > 1 && h > 1 {
				who := opts.SignerName
				if who == "" {
					who = signerName(cert)
				}
				f["AP"] = Dict{"N": stamp(u, w, h, who, opts.Time)}
			}
		}
		u.replace(r, f)
	} else {
		name := opts.Field
		if name == "" {
			for i := 1; ; i++ {
				name = fmt.Sprintf("Signature%d", i)
				if !names[name] {
					break
				}
			}
		} else if names[name] {
			return nil, fmt.Errorf("%w %q exists and is not an empty signature field", ErrField, name)
		}
		pageIdx := 0
		rect := Array{int64(0), int64(0), int64(0), int64(0)}
		if v := opts.Visible; v != nil {
			if v.Page < 1 || v.Page > len(pages) {
				return nil, fmt.Errorf("%w: page %d: the document has %d pages", ErrField, v.Page, len(pages))
			}
			if v.W <= 0 || v.H <= 0 {
				return nil, fmt.Errorf("%w: the stamp needs a positive width and height", ErrField)
			}
			pageIdx = v.Page - 1
			rect = Array{v.X, v.Y, v.X + v.W, v.Y + v.H}
		}
		pageRef := pages[pageIdx]
		widget := Dict{
			"Type": Name("Annot"), "Subtype": Name("Widget"), "FT": Name("Sig"),
			"T": textString(name), "V": sigRef, "F": int64(132), "Rect": rect, "P": pageRef,
		}
		if v := opts.Visible; v != nil {
			who := opts.SignerName
			if who == "" {
				who = signerName(cert)
			}
			widget["AP"] = Dict{"N": stamp(u, v.W, v.H, who, opts.Time)}
		}
		wRef := u.add(widget)
		fields = append(fields, wRef)
		// The page lists the widget among its annotations.
		page := clone(d.dict(pageRef))
		if ar, ok := page["Annots"].(Ref); ok {
			annots, _ := d.get(ar).(Array)
			u.replace(ar, append(append(Array{}, annots...), wRef))
		} else {
			annots, _ := page["Annots"].(Array)
			page["Annots"] = append(append(Array{}, annots...), wRef)
			u.replace(pageRef, page)
		}
		if fieldsIsRef {
			u.replace(fieldsRef, fields)
		} else {
			af["Fields"] = fields
		}
	}
	flags, _ := asInt(af["SigFlags"])
	af["SigFlags"] = flags | 3
	if afIsRef {
		u.replace(afRef, af)
	} else {
		cat["AcroForm"] = af
		u.replace(catRef, cat)
	}

	tail := u.bytes(int64(len(src)))
	out := make([]byte, len(src), len(src)+len(tail))
	copy(out, src)
	out = append(out, tail...)
	cms, err := fillSignature(out, len(src), reserve, signer, cert, chain, opts.Timestamper, opts.byKeyID)
	if err != nil {
		return nil, err
	}
	if len(opts.CRLs) > 0 {
		return addDSS(out, cms, cert, chain, opts.CRLs)
	}
	return out, nil
}

const byteRangePlaceholder = "[0 0000000000 0000000000 0000000000]"

// fillSignature finds the placeholders in the update appended at base,
// writes the byte range, hashes the two ranges and writes the CMS.
func fillSignature(out []byte, base, reserve int, signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, tsa jpki.Timestamper, byKeyID bool) ([]byte, error) {
	tail := out[base:]
	ci := bytes.Index(tail, []byte("/Contents <"+strings.Repeat("0", 2*reserve)+">"))
	bi := bytes.Index(tail, []byte("/ByteRange "+byteRangePlaceholder))
	if ci < 0 || bi < 0 {
		return nil, errors.New("pdfsig: placeholders not found") // cannot happen
	}
	a := int64(base + ci + len("/Contents "))
	b := a + int64(2*reserve+2)
	c := int64(len(out)) - b
	br := fmt.Sprintf("[0 %d %d %d]", a, b, c)
	br += strings.Repeat(" ", len(byteRangePlaceholder)-len(br))
	copy(out[base+bi+len("/ByteRange "):], br)
	h := sha256.New()
	h.Write(out[:a])
	h.Write(out[b:])
	cms, err := buildCMS(h.Sum(nil), signer, cert, chain, tsa, byKeyID)
	if err != nil {
		return nil, err
	}
	if 2*len(cms) > 2*reserve {
		return nil, fmt.Errorf("pdfsig: the signature (%d bytes) is larger than the %d bytes reserved", len(cms), reserve)
	}
	hex.Encode(out[a+1:], cms)
	return cms, nil
}

// addDSS appends a second incremental update with the document security
// store (PAdES B-LT): the certificates, the timestamp authority's and the
// CRLs.
func addDSS(out, cms []byte, cert *x509.Certificate, chain []*x509.Certificate, crls [][]byte) ([]byte, error) {
	d, err := Parse(out)
	if err != nil {
		return nil, err
	}
	cat, catRef, err := d.Catalog()
	if err != nil {
		return nil, err
	}
	u := newUpdate(d)
	var certs, crlRefs Array
	seen := map[string]bool{}
	addCert := func(b []byte) {
		if !seen[string(b)] {
			seen[string(b)] = true
			certs = append(certs, u.addStream(Dict{}, b))
		}
	}
	addCert(cert.Raw)
	for _, c := range chain {
		addCert(c.Raw)
	}
	if p, err := parseCMS(cms, true); err == nil {
		for _, vals := range p.unsigned[oidAttrTimeStamp.String()] {
			if tp, err := parseCMS(vals.FullBytes, false); err == nil {
				for _, c := range tp.certs {
					addCert(c.Raw)
				}
			}
		}
	}
	for _, c := range crls {
		crlRefs = append(crlRefs, u.addStream(Dict{}, c))
	}
	dss := u.add(Dict{"Type": Name("DSS"), "Certs": certs, "CRLs": crlRefs})
	cat = clone(cat)
	cat["DSS"] = dss
	u.replace(catRef, cat)
	return append(out, u.bytes(int64(len(out)))...), nil
}

// findFields maps every field's full name to its reference.
func (d *Document) findFields(fields Array) (map[string]Ref, map[string]bool) {
	refs := map[string]Ref{}
	names := map[string]bool{}
	seen := map[int]bool{}
	var walk func(a Array, prefix string, depth int)
	walk = func(a Array, prefix string, depth int) {
		if depth > maxDepth {
			return
		}
		for _, o := range a {
			r, ok := o.(Ref)
			if !ok || seen[r.Num] {
				continue
			}
			seen[r.Num] = true
			f := d.dict(r)
			if f == nil {
				continue
			}
			name := prefix
			if t, ok := f["T"].(String); ok {
				if name != "" {
					name += "."
				}
				name += decodeText(t.B)
				names[name] = true
				refs[name] = r
			}
			if kids, ok := d.get(f["Kids"]).(Array); ok {
				walk(kids, name, depth+1)
			}
		}
	}
	walk(fields, "", 0)
	return refs, names
}

// inheritedFT is a field's type, inherited through /Parent.
func inheritedFT(d *Document, f Dict) Name {
	for i := 0; f != nil && i < maxDepth; i++ {
		if ft := f.Name("FT"); ft != "" {
			return ft
		}
		f = d.dict(f["Parent"])
	}
	return ""
}

func clone(d Dict) Dict {
	c := make(Dict, len(d)+2)
	for k, v := range d {
		c[k] = v
	}
	return c
}

// pdfDate formats a PDF date, e.g. D:20260102150405+09'00'.
func pdfDate(t time.Time) string {
	s := t.Format("D:20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return s + "Z"
	}
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s%c%02d'%02d'", s, sign, off/3600, off%3600/60)
}

// textString is a PDF text string: PDFDocEncoding-compatible ASCII as is,
// anything else UTF-16BE with a byte order mark.
func textString(s string) String {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return String{B: []byte(s)}
	}
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return String{B: b, Hex: true}
}

// decodeText reads a PDF text string (UTF-16BE with BOM, UTF-8 with BOM,
// else taken as Latin-1/PDFDocEncoding for its ASCII part).
func decodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return string(b[3:])
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func signerName(cert *x509.Certificate) string {
	if a, err := jpki.ParseAttributes(cert); err == nil && a.Name != "" {
		return a.Name
	}
	return cert.Subject.CommonName
}

// stamp draws the visible signature's appearance: a frame, the signer's
// name and the time, in the Adobe-Japan1 font HeiseiKakuGo-W5 through the
// UniJIS-UCS2-HW-H CMap, so Japanese names show. The font is not embedded
// (a viewer substitutes its Japanese gothic, as for any PDF that names the
// standard Japanese fonts). The holder's name in the certificate is JIS X
// 0208 text with substitutes flagged (docs/card.md §5.2), all in the
// BMP, which the UCS-2 CMap covers.
func stamp(u *update, w, h float64, name string, t time.Time) Ref {
	font := u.add(Dict{
		"Type": Name("Font"), "Subtype": Name("Type0"), "BaseFont": Name("HeiseiKakuGo-W5"),
		"Encoding": Name("UniJIS-UCS2-HW-H"),
		"DescendantFonts": Array{Dict{
			"Type": Name("Font"), "Subtype": Name("CIDFontType0"), "BaseFont": Name("HeiseiKakuGo-W5"),
			"CIDSystemInfo": Dict{"Registry": String{B: []byte("Adobe")}, "Ordering": String{B: []byte("Japan1")}, "Supplement": int64(2)},
			"FontDescriptor": Dict{
				"Type": Name("FontDescriptor"), "FontName": Name("HeiseiKakuGo-W5"), "Flags": int64(4),
				"FontBBox": Array{int64(-92), int64(-250), int64(1010), int64(922)}, "ItalicAngle": int64(0),
				"Ascent": int64(880), "Descent": int64(-120), "CapHeight": int64(700), "StemV": int64(80),
			},
			"DW": int64(1000),
			"W":  Array{int64(231), int64(631), int64(500)},
		}},
	})
	size := h / 3.2
	lines := []string{"署名 " + name, t.In(time.FixedZone("JST", 9*3600)).Format("2006-01-02 15:04 JST")}
	var c bytes.Buffer
	fmt.Fprintf(&c, "q 0.2 0.2 0.6 RG 1 w 0.5 0.5 %.2f %.2f re S Q\n", w-1, h-1)
	fmt.Fprintf(&c, "BT /F1 %.2f Tf %.2f %.2f Td %.2f TL\n", size, size*0.4, h-size*1.2, size*1.2)
	for i, l := range lines {
		if i > 0 {
			c.WriteString("T* ")
		}
		c.WriteString("<")
		for _, u := range utf16.Encode([]rune(l)) {
			fmt.Fprintf(&c, "%04X", u)
		}
		c.WriteString("> Tj\n")
	}
	c.WriteString("ET\n")
	return u.addStream(Dict{
		"Type": Name("XObject"), "Subtype": Name("Form"),
		"BBox":      Array{int64(0), int64(0), w, h},
		"Resources": Dict{"Font": Dict{"F1": font}},
	}, c.Bytes())
}
