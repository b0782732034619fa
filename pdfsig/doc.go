package pdfsig

import (
	"bytes"
	"compress/zlib"
	"io"
	"strconv"
)

// entry is one cross-reference entry.
type entry struct {
	kind byte  // 0 free, 1 at an offset, 2 in an object stream
	off  int64 // kind 1: offset; kind 2: the object stream's number
	gen  int   // kind 1: generation; kind 2: index in the stream
}

// Document is a parsed PDF. Data is the whole file; nothing is copied.
type Document struct {
	Data    []byte
	Version string // from the header, e.g. "1.7"
	Trailer Dict
	// StartXref is the offset the file's last startxref names.
	StartXref int64
	// XrefStream is true when the newest cross-reference section is an
	// xref stream (an update must then write one too).
	XrefStream bool

	xref    map[int]entry
	cache   map[int]Object
	objstm  map[int]*objStream
	budget  int64 // decoded stream bytes still allowed
	work    int64 // bytes of object syntax still allowed to be parsed
	resolvd int   // nesting of object loads (Length references)
}

type objStream struct {
	data []byte
	offs map[int]int // object number -> offset in data (from /First)
	ends map[int]int // object number -> end of its region
	nums []int       // object number at each index
}

// Parse reads a PDF's structure: header, the chain of cross-reference
// sections from the last startxref, and the trailer. An encrypted PDF
// gives ErrEncrypted.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxFileSize {
		return nil, malformed("file larger than %d bytes", MaxFileSize)
	}
	d := &Document{Data: data, xref: map[int]entry{}, cache: map[int]Object{}, objstm: map[int]*objStream{}, budget: 3 * maxStream, work: 8*int64(len(data)) + maxStream}
	head := data[:min(len(data), 1024)]
	i := bytes.Index(head, []byte("%PDF-"))
	if i < 0 {
		return nil, malformed("no %%PDF- header")
	}
	v := head[i+5:]
	n := 0
	for n < len(v) && n < 4 && (v[n] == '.' || v[n] >= '0' && v[n] <= '9') {
		n++
	}
	d.Version = string(v[:n])
	sx, err := lastStartxref(data)
	if err != nil {
		return nil, err
	}
	d.StartXref = sx
	seen := map[int64]bool{}
	off := sx
	for k := 0; ; k++ {
		if k >= maxXrefs {
			return nil, malformed("more than %d cross-reference sections", maxXrefs)
		}
		if seen[off] {
			return nil, malformed("cross-reference /Prev chain loops at offset %d", off)
		}
		seen[off] = true
		trailer, isStream, err := d.readSection(off)
		if err != nil {
			return nil, err
		}
		if k == 0 {
			d.Trailer = trailer
			d.XrefStream = isStream
		}
		if xs, ok := asInt(trailer["XRefStm"]); ok && !isStream && !seen[xs] {
			seen[xs] = true
			if _, _, err := d.readSection(xs); err != nil {
				return nil, err
			}
		}
		prev, ok := asInt(trailer["Prev"])
		if !ok {
			break
		}
		off = prev
	}
	if _, ok := d.Trailer["Encrypt"]; ok {
		return nil, ErrEncrypted
	}
	if _, ok := d.Trailer["Root"].(Ref); !ok {
		return nil, malformed("trailer has no /Root reference")
	}
	return d, nil
}

// lastStartxref finds the offset after the last "startxref" keyword.
func lastStartxref(data []byte) (int64, error) {
	tail := data[max(0, len(data)-4096):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, malformed("no startxref near the end of the file")
	}
	l := &lexer{buf: tail, pos: i + len("startxref"), base: -1}
	off, ok := l.int()
	if !ok || off >= int64(len(data)) {
		return 0, malformed("startxref offset out of the file")
	}
	return off, nil
}

// readSection reads the cross-reference section at off, adding entries
// not already known (newer sections are read first), and returns its
// trailer dictionary.
func (d *Document) readSection(off int64) (Dict, bool, error) {
	if off < 0 || off >= int64(len(d.Data)) {
		return nil, false, malformed("cross-reference offset %d out of the file", off)
	}
	if d.work < 0 {
		return nil, false, malformed("too much cross-reference syntax to parse: the file is built to exhaust a reader")
	}
	l := &lexer{buf: d.Data, pos: int(off), base: 0}
	defer func() { d.work -= int64(l.pos) - off }()
	save := l.pos
	if l.keyword() == "xref" {
		t, err := d.readTable(l)
		return t, false, err
	}
	l.pos = save
	obj, err := d.parseIndirect(l, -1)
	if err != nil {
		return nil, false, malformed("no cross-reference at offset %d (%v)", off, err)
	}
	s, ok := obj.(*Stream)
	if !ok || s.Dict.Name("Type") != "XRef" {
		return nil, false, malformed("no cross-reference at offset %d", off)
	}
	return s.Dict, true, d.readXrefStream(s)
}

func (d *Document) set(num int, e entry) {
	if _, ok := d.xref[num]; !ok {
		d.xref[num] = e
	}
}

func (d *Document) readTable(l *lexer) (Dict, error) {
	for {
		save := l.pos
		if l.keyword() == "trailer" {
			t, err := l.parseObject(0)
			if err != nil {
				return nil, err
			}
			td, ok := t.(Dict)
			if !ok {
				return nil, malformed("trailer is not a dictionary")
			}
			return td, nil
		}
		l.pos = save
		start, ok1 := l.int()
		count, ok2 := l.int()
		if !ok1 || !ok2 || start+count > MaxObjects {
			return nil, malformed("bad cross-reference subsection at offset %d", save)
		}
		for i := int64(0); i < count; i++ {
			o, ok1 := l.int()
			g, ok2 := l.int()
			kw := l.keyword()
			if !ok1 || !ok2 || (kw != "n" && kw != "f") {
				return nil, malformed("bad cross-reference entry for object %d", start+i)
			}
			if kw == "n" {
				d.set(int(start+i), entry{kind: 1, off: o, gen: int(g)})
			} else {
				d.set(int(start+i), entry{kind: 0})
			}
		}
	}
}

func (d *Document) readXrefStream(s *Stream) error {
	w, ok := s.Dict["W"].(Array)
	if !ok || len(w) != 3 {
		return malformed("xref stream without /W")
	}
	var ws [3]int
	for i := range ws {
		v, ok := asInt(w[i])
		if !ok || v < 0 || v > 8 {
			return malformed("xref stream /W out of range")
		}
		ws[i] = int(v)
	}
	size, ok := asInt(s.Dict["Size"])
	if !ok || size < 0 || size > MaxObjects {
		return malformed("xref stream /Size out of range")
	}
	index := Array{int64(0), size}
	if ix, ok := s.Dict["Index"].(Array); ok {
		index = ix
	}
	data, err := d.decode(s)
	if err != nil {
		return err
	}
	rec := ws[0] + ws[1] + ws[2]
	if rec == 0 {
		return malformed("xref stream /W is empty")
	}
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	p := 0
	for i := 0; i+1 < len(index); i += 2 {
		start, ok1 := asInt(index[i])
		count, ok2 := asInt(index[i+1])
		if !ok1 || !ok2 || start < 0 || count < 0 || start+count > MaxObjects {
			return malformed("xref stream /Index out of range")
		}
		for k := int64(0); k < count; k++ {
			if p+rec > len(data) {
				return malformed("xref stream shorter than its /Index")
			}
			t := int64(1)
			if ws[0] > 0 {
				t = field(data[p : p+ws[0]])
			}
			f2 := field(data[p+ws[0] : p+ws[0]+ws[1]])
			f3 := field(data[p+ws[0]+ws[1] : p+rec])
			p += rec
			num := int(start + k)
			switch t {
			case 0:
				d.set(num, entry{kind: 0})
			case 1:
				d.set(num, entry{kind: 1, off: f2, gen: int(f3)})
			case 2:
				if f2 < 0 || f2 >= MaxObjects {
					return malformed("object %d in an object stream out of range", num)
				}
				d.set(num, entry{kind: 2, off: f2, gen: int(f3)})
			}
		}
	}
	return nil
}

// parseIndirect reads "n g obj ... endobj" at l. want, when >= 0, is the
// object number expected.
func (d *Document) parseIndirect(l *lexer, want int) (Object, error) {
	n, ok1 := l.int()
	_, ok2 := l.int()
	if !ok1 || !ok2 || l.keyword() != "obj" {
		return nil, malformed("no object header at offset %d", l.off(l.pos))
	}
	if want >= 0 && int(n) != want {
		return nil, malformed("cross-reference points object %d at object %d", want, n)
	}
	o, err := l.parseObject(0)
	if err != nil {
		return nil, err
	}
	dict, isDict := o.(Dict)
	if !isDict {
		return o, nil
	}
	save := l.pos
	if l.keyword() != "stream" {
		l.pos = save
		return o, nil
	}
	// The data starts after CRLF or LF.
	if l.pos < len(l.buf) && l.buf[l.pos] == '\r' {
		l.pos++
	}
	if l.pos < len(l.buf) && l.buf[l.pos] == '\n' {
		l.pos++
	}
	start := l.pos
	length := int64(-1)
	switch v := dict["Length"].(type) {
	case int64:
		length = v
	case Ref:
		if lo, err := d.resolveRef(v); err == nil {
			if n, ok := asInt(lo); ok {
				length = n
			}
		}
	}
	if length >= 0 && int64(start)+length <= int64(len(l.buf)) {
		e := &lexer{buf: l.buf, pos: start + int(length), base: l.base}
		if e.keyword() == "endstream" {
			return &Stream{Dict: dict, Raw: l.buf[start : start+int(length)]}, nil
		}
	}
	// /Length missing or wrong: the data ends before "endstream".
	i := bytes.Index(l.buf[start:], []byte("endstream"))
	if i < 0 {
		return nil, malformed("stream without endstream at offset %d", l.off(start))
	}
	end := start + i
	if end > start && l.buf[end-1] == '\n' {
		end--
	}
	if end > start && l.buf[end-1] == '\r' {
		end--
	}
	return &Stream{Dict: dict, Raw: l.buf[start:end]}, nil
}

// Resolve follows a reference (and a chain of them, bounded); any other
// object is returned as is. A missing object is null.
func (d *Document) Resolve(o Object) (Object, error) {
	for i := 0; i < 32; i++ {
		r, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		if o, err = d.resolveRef(r); err != nil {
			return nil, err
		}
	}
	return nil, malformed("reference chain too long")
}

// Get resolves o and ignores errors (null on any failure).
func (d *Document) get(o Object) Object {
	v, _ := d.Resolve(o)
	return v
}

func (d *Document) dict(o Object) Dict {
	v, _ := d.get(o).(Dict)
	if v == nil {
		if s, ok := d.get(o).(*Stream); ok {
			return s.Dict
		}
	}
	return v
}

func (d *Document) resolveRef(r Ref) (Object, error) {
	if o, ok := d.cache[r.Num]; ok {
		return o, nil
	}
	e, ok := d.xref[r.Num]
	if !ok || e.kind == 0 || (e.kind == 1 && e.gen != r.Gen) || (e.kind == 2 && r.Gen != 0) {
		return nil, nil
	}
	if d.resolvd > 8 {
		return nil, malformed("object %d: references nested too deep", r.Num)
	}
	d.resolvd++
	defer func() { d.resolvd-- }()
	if d.work < 0 {
		return nil, malformed("too much object syntax to parse: the file is built to exhaust a reader")
	}
	var o Object
	var err error
	if e.kind == 1 {
		if e.off < 0 || e.off >= int64(len(d.Data)) {
			return nil, malformed("object %d at offset %d, out of the file", r.Num, e.off)
		}
		l := &lexer{buf: d.Data, pos: int(e.off), base: 0}
		o, err = d.parseIndirect(l, r.Num)
		d.work -= int64(l.pos) - e.off
	} else {
		o, err = d.fromObjStm(int(e.off), e.gen, r.Num)
	}
	if err != nil {
		return nil, err
	}
	d.cache[r.Num] = o
	return o, nil
}

func (d *Document) fromObjStm(snum, idx, num int) (Object, error) {
	os, ok := d.objstm[snum]
	if !ok {
		if e := d.xref[snum]; e.kind != 1 {
			return nil, malformed("object stream %d is not a plain object", snum)
		}
		so, err := d.resolveRef(Ref{snum, d.xref[snum].gen})
		if err != nil {
			return nil, err
		}
		s, ok := so.(*Stream)
		if !ok || s.Dict.Name("Type") != "ObjStm" {
			return nil, malformed("object %d is not an object stream", snum)
		}
		data, err := d.decode(s)
		if err != nil {
			return nil, err
		}
		n, ok1 := asInt(s.Dict["N"])
		first, ok2 := asInt(s.Dict["First"])
		if !ok1 || !ok2 || n < 0 || n > int64(len(data)) || first < 0 || first > int64(len(data)) {
			return nil, malformed("object stream %d: bad /N or /First", snum)
		}
		os = &objStream{data: data, offs: map[int]int{}, ends: map[int]int{}}
		l := &lexer{buf: data[:first], base: -1}
		last, lastNum := int64(-1), -1
		for i := int64(0); i < n; i++ {
			on, ok1 := l.int()
			oo, ok2 := l.int()
			// Offsets increase (ISO 32000 §7.5.7), so each object has a
			// region of its own and parsing them all is linear.
			if !ok1 || !ok2 || first+oo > int64(len(data)) || oo <= last {
				return nil, malformed("object stream %d: bad header", snum)
			}
			if lastNum >= 0 {
				os.ends[lastNum] = int(first + oo)
			}
			if _, dup := os.offs[int(on)]; !dup {
				os.offs[int(on)] = int(first + oo)
				lastNum = int(on)
			} else {
				lastNum = -1
			}
			last = oo
			os.nums = append(os.nums, int(on))
		}
		if lastNum >= 0 {
			os.ends[lastNum] = len(data)
		}
		d.objstm[snum] = os
	}
	if idx < 0 || idx >= len(os.nums) || os.nums[idx] != num {
		// The index is a hint; the header is authoritative.
		if _, ok := os.offs[num]; !ok {
			return nil, nil
		}
	}
	l := &lexer{buf: os.data[:os.ends[num]], pos: os.offs[num], base: -1}
	o, err := l.parseObject(0)
	d.work -= int64(l.pos - os.offs[num])
	return o, err
}

// decode returns a stream's decoded data (FlateDecode, with PNG
// predictors; no filter), bounded by maxStream and the document's budget.
func (d *Document) decode(s *Stream) ([]byte, error) {
	var filters []Name
	switch f := s.Dict["Filter"].(type) {
	case nil:
	case Name:
		filters = []Name{f}
	case Array:
		for _, x := range f {
			n, _ := x.(Name)
			filters = append(filters, n)
		}
	}
	data := s.Raw
	for i, f := range filters {
		if f != "FlateDecode" && f != "Fl" {
			return nil, malformed("stream filter /%s not supported", f)
		}
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, malformed("flate stream: %v", err)
		}
		lim := min(int64(maxStream), d.budget)
		out, err := io.ReadAll(io.LimitReader(zr, lim+1))
		if err != nil && err != io.ErrUnexpectedEOF {
			return nil, malformed("flate stream: %v", err)
		}
		if int64(len(out)) > lim {
			return nil, malformed("stream decodes to more than %d bytes", lim)
		}
		d.budget -= int64(len(out))
		data = out
		var parms Dict
		switch p := s.Dict["DecodeParms"].(type) {
		case Dict:
			parms = p
		case Array:
			if i < len(p) {
				parms, _ = p[i].(Dict)
			}
		}
		if data, err = unpredict(data, parms); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// unpredict undoes a PNG predictor (Predictor >= 10) for 8-bit samples.
func unpredict(data []byte, parms Dict) ([]byte, error) {
	pred, _ := asInt(parms["Predictor"])
	if pred <= 1 {
		return data, nil
	}
	if pred < 10 {
		return nil, malformed("TIFF predictor not supported")
	}
	cols, ok := asInt(parms["Columns"])
	if !ok {
		cols = 1
	}
	colors, ok := asInt(parms["Colors"])
	if !ok {
		colors = 1
	}
	if bpc, ok := asInt(parms["BitsPerComponent"]); ok && bpc != 8 {
		return nil, malformed("predictor with %d bits per component not supported", bpc)
	}
	if cols < 1 || cols > 1<<16 || colors < 1 || colors > 32 {
		return nil, malformed("predictor parameters out of range")
	}
	bpp := int(colors)
	row := int(cols) * bpp
	out := make([]byte, 0, len(data))
	prev := make([]byte, row)
	for p := 0; p+1+row <= len(data); p += 1 + row {
		ft := data[p]
		cur := append([]byte(nil), data[p+1:p+1+row]...)
		for i := range cur {
			var a, c byte
			if i >= bpp {
				a, c = cur[i-bpp], prev[i-bpp]
			}
			b := prev[i]
			switch ft {
			case 0:
			case 1:
				cur[i] += a
			case 2:
				cur[i] += b
			case 3:
				cur[i] += byte((int(a) + int(b)) / 2)
			case 4:
				cur[i] += paeth(a, b, c)
			default:
				return nil, malformed("PNG predictor filter type %d", ft)
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Size is the trailer's /Size (one past the highest object number).
func (d *Document) Size() int {
	n, _ := asInt(d.Trailer["Size"])
	for k := range d.xref {
		if int64(k) >= n {
			n = int64(k) + 1
		}
	}
	return int(n)
}

// Catalog is the document catalog and its reference.
func (d *Document) Catalog() (Dict, Ref, error) {
	r := d.Trailer["Root"].(Ref)
	o, err := d.Resolve(r)
	if err != nil {
		return nil, r, err
	}
	c, ok := o.(Dict)
	if !ok {
		return nil, r, malformed("catalog %s is not a dictionary", r)
	}
	return c, r, nil
}

// Pages lists the page objects in order.
func (d *Document) Pages() ([]Ref, error) {
	cat, _, err := d.Catalog()
	if err != nil {
		return nil, err
	}
	root, ok := cat["Pages"].(Ref)
	if !ok {
		return nil, malformed("catalog has no /Pages reference")
	}
	var pages []Ref
	seen := map[int]bool{}
	var walk func(r Ref, depth int) error
	walk = func(r Ref, depth int) error {
		if depth > maxDepth {
			return malformed("page tree deeper than %d", maxDepth)
		}
		if seen[r.Num] {
			return malformed("page tree loops at object %d", r.Num)
		}
		seen[r.Num] = true
		o, err := d.Resolve(r)
		if err != nil {
			return err
		}
		n, ok := o.(Dict)
		if !ok {
			return malformed("page tree node %s is not a dictionary", r)
		}
		if n.Name("Type") == "Page" {
			pages = append(pages, r)
			return nil
		}
		kids, _ := d.get(n["Kids"]).(Array)
		for _, k := range kids {
			kr, ok := k.(Ref)
			if !ok {
				return malformed("page tree kid is not a reference")
			}
			if err := walk(kr, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	return pages, nil
}

// revisionEnds lists the offsets just past each %%EOF marker (and its end
// of line): the places where a revision of the file ends.
func revisionEnds(data []byte) []int64 {
	var ends []int64
	p := 0
	for len(ends) < 100000 {
		i := bytes.Index(data[p:], []byte("%%EOF"))
		if i < 0 {
			break
		}
		e := p + i + 5
		if e < len(data) && data[e] == '\r' {
			e++
		}
		if e < len(data) && data[e] == '\n' {
			e++
		}
		ends = append(ends, int64(e))
		p = e
	}
	return ends
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
