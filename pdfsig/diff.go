package pdfsig

import (
	"bytes"
	"fmt"
	"slices"
)

// Change is one object a later revision added, replaced or removed.
type Change struct {
	Object  int    `json:"object"`
	What    string `json:"what"`
	Allowed bool   `json:"allowed"`
	// Revision is the end of the revision that first made the change.
	Revision int64 `json:"revision_end"`
}

// attributeChanges sets each change's Revision: the first of the revisions after
// old (ends, ascending, at most 64 read) whose object differs from old's.
func attributeChanges(data []byte, old *Document, after int64, ends []int64, chs []Change) {
	live := func(d *Document, n int) bool { e, ok := d.xref[n]; return ok && e.kind != 0 }
	var mids []*Document
	var midEnds []int64
	for _, e := range ends {
		if e > after && len(mids) < 64 {
			if md, err := Parse(data[:e]); err == nil {
				mids = append(mids, md)
				midEnds = append(midEnds, e)
			}
		}
	}
	for i := range chs {
		n := chs[i].Object
		chs[i].Revision = int64(len(data))
		for k, md := range mids {
			lo, lm := live(old, n), live(md, n)
			if lo != lm || lo && !sameEntry(old, md, n) {
				chs[i].Revision = midEnds[k]
				break
			}
		}
	}
}

// mdp is what the document's permissions allow after a signature.
type mdp struct {
	docP   int64             // DocMDP /P: 1 nothing, 2 form fill and signatures, 3 also annotations
	locked func(string) bool // FieldMDP: is this field locked?
}

func serial(o Object) []byte {
	var b bytes.Buffer
	if s, ok := o.(*Stream); ok {
		writeObj(&b, s.Dict)
		b.WriteString("stream")
		b.Write(s.Raw)
		return b.Bytes()
	}
	writeObj(&b, o)
	return b.Bytes()
}

// changedKeys lists the keys whose values differ between two dictionaries.
func changedKeys(a, b Dict) []Name {
	var out []Name
	for k, v := range b {
		if w, ok := a[k]; !ok || !bytes.Equal(serial(v), serial(w)) {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func subset(keys []Name, allowed ...Name) bool {
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}

// keepsPrefix: every element of old is still in new, in order, first.
func keepsPrefix(old, new Array) bool {
	if len(new) < len(old) {
		return false
	}
	for i := range old {
		if !bytes.Equal(serial(old[i]), serial(new[i])) {
			return false
		}
	}
	return true
}

// reach collects the objects reachable from o (bounded).
func (d *Document) reach(o Object, into map[int]bool, budget *int) {
	var walk func(o Object, depth int)
	walk = func(o Object, depth int) {
		if depth > maxDepth || *budget <= 0 {
			return
		}
		*budget--
		switch v := o.(type) {
		case Ref:
			if into[v.Num] {
				return
			}
			into[v.Num] = true
			walk(d.get(v), depth+1)
		case Array:
			for _, x := range v {
				walk(x, depth+1)
			}
		case Dict:
			for _, x := range v {
				walk(x, depth+1)
			}
		case *Stream:
			walk(v.Dict, depth+1)
		}
	}
	walk(o, 0)
}

func sameEntry(old, new *Document, num int) bool {
	eo, ok := old.xref[num]
	en := new.xref[num]
	if !ok || eo != en {
		return false
	}
	if en.kind == 2 {
		return old.xref[int(en.off)] == new.xref[int(en.off)]
	}
	return true
}

// changes compares the revision a signature covers (old) with the whole
// file (new) and classifies every difference.
func changes(old, new *Document, perm mdp) []Change {
	var out []Change
	add := func(num int, allowed bool, format string, args ...any) {
		out = append(out, Change{Object: num, What: fmt.Sprintf(format, args...), Allowed: allowed})
	}
	var nums []int
	for n, e := range new.xref {
		if e.kind != 0 && !sameEntry(old, new, n) {
			nums = append(nums, n)
		}
	}
	for n, e := range old.xref {
		if e.kind != 0 {
			if en, ok := new.xref[n]; !ok || en.kind == 0 {
				add(n, false, "object %d removed", n)
			}
		}
	}
	slices.Sort(nums)
	if len(nums) == 0 {
		return out
	}
	newCat, _, _ := new.Catalog()
	oldCat, catRef, _ := old.Catalog()
	budget := 1 << 20

	// Objects a later revision may add: the document security store and
	// what it holds, signature dictionaries, signature fields and their
	// appearances.
	dss := map[int]bool{}
	if newCat != nil {
		new.reach(newCat["DSS"], dss, &budget)
	}
	isSigField := func(o Object) bool {
		f, ok := o.(Dict)
		return ok && inheritedFT(new, f) == "Sig"
	}
	appearance := map[int]bool{}
	for _, n := range nums {
		o := new.get(Ref{n, new.xref[n].gen * b2i(new.xref[n].kind == 1)})
		if _, existed := old.xref[n]; !existed && isSigField(o) {
			new.reach(o.(Dict)["AP"], appearance, &budget)
		}
	}
	// The form's default resources (fonts for field appearances) may
	// gain objects along with a new field.
	if newCat != nil {
		if af := new.dict(newCat["AcroForm"]); af != nil {
			new.reach(af["DR"], appearance, &budget)
		}
	}
	reachable := map[int]bool{}
	new.reach(new.Trailer["Root"], reachable, &budget)
	new.reach(new.Trailer["Info"], reachable, &budget)
	// A walk cut short proves nothing unreferenced: every new object is
	// then taken as used.
	exhausted := budget <= 0
	// References the signed revision already made to objects it lacked:
	// defining them later changes what the signed document shows.
	dangling := map[int]bool{}
	oldBudget := 1 << 20
	if oldCat != nil {
		old.reach(old.Trailer["Root"], dangling, &oldBudget)
		old.reach(old.Trailer["Info"], dangling, &oldBudget)
	}
	oldExhausted := oldBudget <= 0
	infoRef, _ := new.Trailer["Info"].(Ref)

	for _, n := range nums {
		e := new.xref[n]
		ref := Ref{n, 0}
		if e.kind == 1 {
			ref.Gen = e.gen
		}
		o := new.get(ref)
		_, existed := old.xref[n]
		if existed && old.xref[n].kind == 0 {
			existed = false
		}
		var oldObj Object
		if existed {
			oldObj = old.get(ref)
		}
		if existed && bytes.Equal(serial(oldObj), serial(o)) {
			continue // written again unchanged
		}
		s, isStream := o.(*Stream)
		if isStream && (s.Dict.Name("Type") == "XRef" || s.Dict.Name("Type") == "ObjStm") {
			continue // structure: the objects inside are judged one by one
		}
		if dss[n] {
			add(n, true, "document security store (validation data)")
			continue
		}
		dict, _ := o.(Dict)
		if !existed {
			switch {
			case dangling[n] || oldExhausted:
				add(n, false, "object %d was referenced by the signed revision, which lacked it, and is now defined (%s)", n, kind(o))
			case dict != nil && (dict.Name("Type") == "Sig" || dict.Name("Type") == "DocTimeStamp"):
				add(n, true, "new signature dictionary")
			case isSigField(o):
				add(n, perm.docP >= 2 || dict.Name("Type") == "DocTimeStamp", "new signature field")
			case newCat != nil && refNum(newCat["AcroForm"]) == n && dict != nil:
				add(n, acroFormOK(old, new, Dict{}, dict, perm), "new form dictionary")
			case appearance[n]:
				add(n, perm.docP >= 2, "appearance of a new signature field")
			case !reachable[n] && !exhausted:
				add(n, true, "new object %d, referenced by nothing", n)
			default:
				add(n, false, "new object %d (%s) that the document shows or uses", n, kind(o))
			}
			continue
		}
		oldDict, _ := oldObj.(Dict)
		if dict == nil || oldDict == nil {
			add(n, false, "object %d (%s) replaced", n, kind(o))
			continue
		}
		keys := changedKeys(oldDict, dict)
		switch {
		case n == catRef.Num:
			ok := subset(keys, "AcroForm", "DSS", "Extensions")
			if ok && slices.Contains(keys, "AcroForm") {
				od, nd := old.dict(oldCat["AcroForm"]), new.dict(newCat["AcroForm"])
				if od == nil {
					od = Dict{}
				}
				if _, direct := newCat["AcroForm"].(Dict); direct {
					ok = acroFormOK(old, new, od, nd, perm)
				}
			}
			add(n, ok, "catalog: %s changed", names(keys))
		case oldCat != nil && refNum(oldCat["AcroForm"]) == n:
			add(n, acroFormOK(old, new, oldDict, dict, perm), "form dictionary: %s changed", names(keys))
		case dict.Name("Type") == "Page":
			ok := subset(keys, "Annots")
			if ok {
				oa, _ := old.get(oldDict["Annots"]).(Array)
				na, _ := new.get(dict["Annots"]).(Array)
				ok = appendsSigFields(new, oa, na, perm)
			}
			add(n, ok, "page: %s changed", names(keys))
		case n == infoRef.Num:
			add(n, true, "document information (metadata) changed")
		case inheritedFT(new, dict) == "Sig":
			ok := oldDict["V"] == nil && subset(keys, "V", "AP", "AS", "F", "MK") && perm.docP >= 2
			add(n, ok, "signature field %q: %s changed", fieldName(new, dict), names(keys))
		case inheritedFT(new, dict) != "":
			name := fieldName(new, dict)
			ok := subset(keys, "V", "AS", "AP") && perm.docP >= 2 && (perm.locked == nil || !perm.locked(name))
			add(n, ok, "form field %q: %s changed (form fill)", name, names(keys))
		default:
			add(n, false, "object %d (%s) replaced: %s changed", n, kind(o), names(keys))
		}
	}
	// Arrays changed in place (an indirect /Fields or /Annots).
	return fixArrays(old, new, out, perm)
}

// fixArrays re-judges replaced arrays that are a page's /Annots or the
// form's /Fields: allowed when they only append signature fields.
func fixArrays(old, new *Document, out []Change, perm mdp) []Change {
	for i, c := range out {
		if c.Allowed {
			continue
		}
		oa, ok1 := old.get(Ref{c.Object, 0}).(Array)
		na, ok2 := new.get(Ref{c.Object, 0}).(Array)
		if ok1 && ok2 && appendsSigFields(new, oa, na, perm) {
			out[i].Allowed = true
			out[i].What = fmt.Sprintf("array %d: signature fields appended", c.Object)
		}
	}
	return out
}

func acroFormOK(old, new *Document, od, nd Dict, perm mdp) bool {
	keys := changedKeys(od, nd)
	if !subset(keys, "Fields", "SigFlags", "DR", "DA") {
		return false
	}
	of, _ := old.get(od["Fields"]).(Array)
	nf, _ := new.get(nd["Fields"]).(Array)
	return appendsSigFields(new, of, nf, perm)
}

func appendsSigFields(new *Document, old, cur Array, perm mdp) bool {
	if !keepsPrefix(old, cur) {
		return false
	}
	for _, x := range cur[len(old):] {
		f := new.dict(x)
		if f == nil || inheritedFT(new, f) != "Sig" || perm.docP < 2 {
			return false
		}
	}
	return true
}

func fieldName(d *Document, f Dict) string {
	name := ""
	for i := 0; f != nil && i < maxDepth; i++ {
		if t, ok := f["T"].(String); ok {
			if name == "" {
				name = decodeText(t.B)
			} else {
				name = decodeText(t.B) + "." + name
			}
		}
		f = d.dict(f["Parent"])
	}
	return name
}

func kind(o Object) string {
	switch v := o.(type) {
	case *Stream:
		if t := v.Dict.Name("Type"); t != "" {
			return "stream " + string(t)
		}
		if st := v.Dict.Name("Subtype"); st != "" {
			return "stream " + string(st)
		}
		return "content or data stream"
	case Dict:
		if t := v.Name("Type"); t != "" {
			return string(t)
		}
		return "dictionary"
	case Array:
		return "array"
	}
	return fmt.Sprintf("%T", o)
}

func names(keys []Name) string {
	if len(keys) == 0 {
		return "nothing"
	}
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("/" + string(k))
	}
	return b.String()
}

func refNum(o Object) int {
	if r, ok := o.(Ref); ok {
		return r.Num
	}
	return -1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
