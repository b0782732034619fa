package pdfsig

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/trust"
)

// mkpdf writes a classic-xref PDF of the given object bodies (object i+1).
func mkpdf(objs []string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, x)
	return b.Bytes()
}

// Malformed, cyclic, deep and truncated files are errors of class
// ErrMalformed, never panics or hangs.
func TestPDFHostile(t *testing.T) {
	ok := mkpdf([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R >>"}, "")
	if d, err := Parse(ok); err != nil {
		t.Fatal(err)
	} else if p, err := d.Pages(); err != nil || len(p) != 1 {
		t.Fatalf("%v %v", p, err)
	}
	x := bytes.LastIndex(ok, []byte("\nxref\n")) + 1
	cases := map[string][]byte{
		"prev loop":       bytes.Replace(ok, []byte("/Root 1 0 R"), []byte(fmt.Sprintf("/Root 1 0 R /Prev %d", x)), 1),
		"page tree cycle": mkpdf([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 1 >>"}, ""),
		"deep nesting":    mkpdf([]string{"<< /Type /Catalog /Pages " + strings.Repeat("[", 100000) + " >>"}, ""),
		"objstm in itself": mkpdf([]string{"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /ObjStm /N 1 /First 4 /Length 10 >>\nstream\n2 0 [2 0 R]\nendstream"}, ""),
		"truncated":       ok[:len(ok)-40],
		"no header":       ok[9:],
		"startxref out":   bytes.Replace(ok, []byte(fmt.Sprintf("startxref\n%d", x)), []byte("startxref\n999999999"), 1),
		"bad xref entry":  bytes.Replace(ok, []byte(" n\r\n"), []byte(" x\r\n"), 1),
		"root not a dict": mkpdf([]string{"42"}, ""),
	}
	for name, b := range cases {
		d, err := Parse(b)
		if err == nil {
			_, err = d.Pages()
		}
		if err == nil {
			_, err = Verify(b, VerifyOptions{})
			if err == nil {
				_, err = d.Pages()
			}
		}
		if err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A stream whose /Length is wrong is still found by its endstream.
func TestPDFWrongLength(t *testing.T) {
	b := mkpdf([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
		"<< /Length 99999 >>\nstream\nBT ET\nendstream"}, "")
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := d.get(Ref{4, 0}).(*Stream)
	if !ok || string(s.Raw) != "BT ET" {
		t.Fatalf("%#v", d.get(Ref{4, 0}))
	}
}

// Shadow attack by a dangling reference: the signed page draws object 9,
// which the signed revision lacks; an update defines it (and hides it as
// a new signature field's appearance). The change fails.
func TestPDFDanglingReferenceDefinedLater(t *testing.T) {
	p := testPKI(t)
	src := mkpdf([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /X 9 0 R >> >> >>",
		"<< /Length 8 >>\nstream\n/X Do   \nendstream",
	}, "")
	signed := signWith(t, src, p.cert, SignOptions{})
	if r := verify(t, signed); r.Verdict != trust.Genuine {
		t.Fatalf("%s %+v", r.Verdict, r.Checks)
	}
	d, err := Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	u := newUpdate(d)
	overlay := []byte("BT /F1 30 Tf 100 700 Td (PAY 1,000,000 YEN) Tj ET")
	u.strm[9] = overlay
	u.replace(Ref{9, 0}, Dict{"Type": Name("XObject"), "Subtype": Name("Form"), "BBox": Array{int64(0), int64(0), int64(595), int64(842)}, "Length": int64(len(overlay))})
	pages, _ := d.Pages()
	page := clone(d.dict(pages[0]))
	w := u.add(Dict{"Type": Name("Annot"), "Subtype": Name("Widget"), "FT": Name("Sig"), "T": String{B: []byte("decoy")},
		"Rect": Array{int64(0), int64(0), int64(0), int64(0)}, "P": pages[0], "AP": Dict{"N": Ref{9, 0}}})
	page["Annots"] = append(page["Annots"].(Array), w)
	u.replace(pages[0], page)
	b := append(bytes.Clone(signed), u.bytes(int64(len(signed)))...)
	if r := verify(t, b); r.Verdict != trust.NotGenuine || !failed(r, CheckLaterChanges, "object 9 was referenced by the signed revision") {
		t.Fatalf("%s %+v", r.Verdict, r.Checks)
	}
}
