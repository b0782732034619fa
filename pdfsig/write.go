package pdfsig

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
)

// writeObj serialises o. Dictionary keys are written in sorted order.
func writeObj(b *bytes.Buffer, o Object) {
	switch v := o.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
	case Name:
		writeName(b, v)
	case String:
		if v.Hex {
			fmt.Fprintf(b, "<%X>", v.B)
			return
		}
		b.WriteByte('(')
		for _, c := range v.B {
			switch c {
			case '(', ')', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\r':
				b.WriteString(`\r`)
			case '\n':
				b.WriteString(`\n`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte(')')
	case Array:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeObj(b, x)
		}
		b.WriteByte(']')
	case Dict:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, string(k))
		}
		slices.Sort(keys)
		b.WriteString("<<")
		for _, k := range keys {
			writeName(b, Name(k))
			b.WriteByte(' ')
			writeObj(b, v[Name(k)])
		}
		b.WriteString(">>")
	case Ref:
		fmt.Fprintf(b, "%d %d R", v.Num, v.Gen)
	case raw:
		b.Write(v)
	default:
		panic(fmt.Sprintf("pdfsig: cannot write %T", o))
	}
}

// raw is pre-serialised PDF syntax (the signature placeholders).
type raw []byte

func writeName(b *bytes.Buffer, n Name) {
	b.WriteByte('/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '#' || isDelim(c) {
			fmt.Fprintf(b, "#%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
}

// update is an incremental update being built: objects to append after
// the original bytes, then a cross-reference section of the same kind as
// the file's newest one, whose /Prev is the file's startxref.
type update struct {
	doc  *Document
	next int // next free object number
	objs map[int]Object
	strm map[int][]byte // stream data of objects that are streams
	gens map[int]int
}

func newUpdate(d *Document) *update {
	return &update{doc: d, next: d.Size(), objs: map[int]Object{}, strm: map[int][]byte{}, gens: map[int]int{}}
}

// add allocates a new object.
func (u *update) add(o Object) Ref {
	n := u.next
	u.next++
	u.objs[n] = o
	return Ref{n, 0}
}

// addStream allocates a new stream object; its /Length is set here.
func (u *update) addStream(dict Dict, data []byte) Ref {
	dict["Length"] = int64(len(data))
	r := u.add(dict)
	u.strm[r.Num] = data
	return r
}

// replace writes a new version of an existing object.
func (u *update) replace(r Ref, o Object) {
	u.objs[r.Num] = o
	u.gens[r.Num] = r.Gen
}

// bytes serialises the update for appending at offset base (the length of
// the original file).
func (u *update) bytes(base int64) []byte {
	var b bytes.Buffer
	d := u.doc
	if base > 0 && d.Data[base-1] != '\n' && d.Data[base-1] != '\r' {
		b.WriteByte('\n')
	}
	nums := make([]int, 0, len(u.objs)+1)
	for n := range u.objs {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	offs := map[int]int64{}
	for _, n := range nums {
		offs[n] = base + int64(b.Len())
		fmt.Fprintf(&b, "%d %d obj\n", n, u.gens[n])
		writeObj(&b, u.objs[n])
		if data, ok := u.strm[n]; ok {
			b.WriteString("\nstream\n")
			b.Write(data)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	trailer := Dict{"Root": d.Trailer["Root"], "Prev": d.StartXref}
	for _, k := range []Name{"Info", "ID"} {
		if v, ok := d.Trailer[k]; ok {
			trailer[k] = v
		}
	}
	xrefAt := base + int64(b.Len())
	if d.XrefStream {
		self := u.next
		nums = append(nums, self)
		offs[self] = xrefAt
		trailer["Type"] = Name("XRef")
		trailer["Size"] = int64(self + 1)
		w := 1
		for v := xrefAt; v > 0xff; v >>= 8 {
			w++
		}
		var idx Array
		var rows []byte
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			idx = append(idx, int64(nums[i]), int64(j-i+1))
			for k := i; k <= j; k++ {
				rows = append(rows, 1)
				for s := w - 1; s >= 0; s-- {
					rows = append(rows, byte(offs[nums[k]]>>(8*s)))
				}
				rows = append(rows, byte(u.gens[nums[k]]>>8), byte(u.gens[nums[k]]))
			}
			i = j + 1
		}
		trailer["Index"] = idx
		trailer["W"] = Array{int64(1), int64(w), int64(2)}
		trailer["Length"] = int64(len(rows))
		fmt.Fprintf(&b, "%d 0 obj\n", self)
		writeObj(&b, trailer)
		b.WriteString("\nstream\n")
		b.Write(rows)
		b.WriteString("\nendstream\nendobj\n")
	} else {
		trailer["Size"] = int64(u.next)
		b.WriteString("xref\n")
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			fmt.Fprintf(&b, "%d %d\n", nums[i], j-i+1)
			for k := i; k <= j; k++ {
				fmt.Fprintf(&b, "%010d %05d n\r\n", offs[nums[k]], u.gens[nums[k]])
			}
			i = j + 1
		}
		b.WriteString("trailer\n")
		writeObj(&b, trailer)
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xrefAt)
	return b.Bytes()
}
