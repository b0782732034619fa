package pdfsig

import (
	"bytes"
	"testing"

	"github.com/mynakit/mynakit/trust"
)

// fill appends an update that sets the text field "applicant" (object 7
// of acroform.pdf) to a new value.
func fill(t *testing.T, b []byte, value string) []byte {
	t.Helper()
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	f := clone(d.dict(Ref{7, 0}))
	f["V"] = String{B: []byte(value)}
	u := newUpdate(d)
	u.replace(Ref{7, 0}, f)
	return append(bytes.Clone(b), u.bytes(int64(len(b)))...)
}

func laterChanges(res *Result) trust.Result {
	for _, c := range res.Signatures[0].Checks {
		if c.Name == CheckLaterChanges {
			return c.Result
		}
	}
	return ""
}

// Form fill after an approval signature is allowed; a FieldMDP lock on
// the field, or DocMDP P=1, forbids it.
func TestPDFFormFillPermissions(t *testing.T) {
	p := testPKI(t)
	src := readCorpus(t, "acroform.pdf")
	signed := signWith(t, src, p.cert, SignOptions{Field: "ApplicantSignature"})
	if r := verify(t, fill(t, signed, "Ryougi Shiki")); r.Verdict != trust.Genuine || laterChanges(r) != trust.Pass {
		t.Fatalf("form fill: %s %+v", r.Verdict, r.Checks)
	}

	// The signature field locks "applicant" (FieldMDP /Lock).
	d, _ := Parse(src)
	u := newUpdate(d)
	sf := clone(d.dict(Ref{8, 0}))
	sf["Lock"] = Dict{"Type": Name("SigFieldLock"), "Action": Name("Include"), "Fields": Array{String{B: []byte("applicant")}}}
	u.replace(Ref{8, 0}, sf)
	locked := append(bytes.Clone(src), u.bytes(int64(len(src)))...)
	lockedSigned := signWith(t, locked, p.cert, SignOptions{Field: "ApplicantSignature"})
	if r := verify(t, lockedSigned); r.Verdict != trust.Genuine {
		t.Fatalf("locked, signed: %s %+v", r.Verdict, r.Checks)
	}
	if r := verify(t, fill(t, lockedSigned, "Ryougi Shiki")); r.Verdict != trust.NotGenuine || !failed(r, CheckLaterChanges, `form field "applicant"`) {
		t.Fatalf("locked field filled: %s %+v", r.Verdict, r.Checks)
	}

	// Making the signature a certification one afterwards (adding
	// /Perms) is itself a change the signature does not permit.
	d, _ = Parse(signed)
	cat, catRef, _ := d.Catalog()
	var sigRef Ref
	for _, s := range verify(t, signed).Signatures {
		sigRef = Ref{s.Object, 0}
	}
	u = newUpdate(d)
	cat = clone(cat)
	cat["Perms"] = Dict{"DocMDP": sigRef}
	u.replace(catRef, cat)
	b := append(bytes.Clone(signed), u.bytes(int64(len(signed)))...)
	if r := verify(t, b); r.Verdict != trust.NotGenuine || !failed(r, CheckLaterChanges, "catalog") {
		t.Fatalf("perms added later: %s %+v", r.Verdict, r.Checks)
	}
}

// Under DocMDP P=1 a second signature is a change the first forbids.
func TestPDFDocMDPNoChanges(t *testing.T) {
	ch := changes(mustParse(t, readCorpus(t, "classic.pdf")), mustParse(t, signWith(t, readCorpus(t, "classic.pdf"), testPKI(t).cert, SignOptions{})), mdp{docP: 1})
	bad := 0
	for _, c := range ch {
		if !c.Allowed {
			bad++
		}
	}
	if bad == 0 {
		t.Fatalf("a signature added under P=1 passes: %+v", ch)
	}
	ch = changes(mustParse(t, readCorpus(t, "classic.pdf")), mustParse(t, signWith(t, readCorpus(t, "classic.pdf"), testPKI(t).cert, SignOptions{})), mdp{docP: 2})
	for _, c := range ch {
		if !c.Allowed {
			t.Fatalf("a signature added under P=2 fails: %+v", c)
		}
	}
}

func mustParse(t *testing.T, b []byte) *Document {
	t.Helper()
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
