package pdfsig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mynakit/mynakit/trust"
)

func addCorpusSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pdf"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzObject: the object parser never panics, and what it parses writes
// back to syntax that parses to the same object.
func FuzzObject(f *testing.F) {
	for _, s := range []string{
		"<< /Type /Sig /ByteRange [0 10 20 30] /Contents <0A0b> /M (D:2026\\(x\\)) >>",
		"[1 0 R 2 -3.5 .5 +7 true false null /N#20ame (a\\101\\nb) <4>]",
		"<< /A << /B << /C [[[ ]]] >> >> >>",
		"(unbalanced ( paren",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l := &lexer{buf: b, base: 0}
		o, err := l.parseObject(0)
		if err != nil {
			return
		}
		s1 := serial(o)
		l2 := &lexer{buf: s1, base: 0}
		o2, err := l2.parseObject(0)
		if err != nil {
			t.Fatalf("%q parsed, but its serialisation %q does not: %v", b, s1, err)
		}
		if s2 := serial(o2); !bytes.Equal(s1, s2) {
			t.Fatalf("round trip changed %q to %q", s1, s2)
		}
	})
}

// FuzzXref: the cross-reference reader (tables, streams, object streams,
// /Prev chains) and the page tree walk return an error or a document,
// never panic or hang.
func FuzzXref(f *testing.F) {
	addCorpusSeeds(f)
	f.Add([]byte("%PDF-1.4\nxref\n0 1\n0000000000 65535 f\r\ntrailer\n<< /Size 1 /Root 1 0 R /Prev 9 >>\nstartxref\n9\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		d.Catalog()
		d.Pages()
		cat, _, _ := d.Catalog()
		if cat != nil {
			if af := d.dict(cat["AcroForm"]); af != nil {
				fields, _ := d.get(af["Fields"]).(Array)
				d.findFields(fields)
			}
		}
	})
}

// FuzzVerify: verifying any file (signed corpus files mutated) gives a
// result or an error, never a panic or a hang, and never genuine for a
// file no anchor signed.
func FuzzVerify(f *testing.F) {
	addCorpusSeeds(f)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Verify(b, VerifyOptions{Store: &trust.Store{}, Now: now})
		if err == nil && res.Verdict == trust.Genuine {
			t.Fatal("genuine with no anchor")
		}
	})
}

// FuzzByteRange: a byte range passes only when it starts at 0, its hole is
// exactly the /Contents string and it ends at a revision's end inside the
// file.
func FuzzByteRange(f *testing.F) {
	f.Add(int64(0), int64(100), int64(200), int64(50), int64(100), int64(200), int64(250), int64(250))
	f.Add(int64(0), int64(90), int64(200), int64(50), int64(100), int64(200), int64(250), int64(250))
	f.Add(int64(1), int64(100), int64(200), int64(60), int64(100), int64(200), int64(250), int64(260))
	f.Fuzz(func(t *testing.T, a0, a, b, c, pos, end, size, rev int64) {
		ends := []int64{rev}
		why := byteRangeProblem([]int64{a0, a, b, c}, 4, String{Pos: pos, End: end}, size, ends)
		if why != "" {
			return
		}
		if a0 != 0 || a != pos || b != end || b+c > size || b+c != rev || a < 0 || c < 0 {
			t.Fatalf("accepted [%d %d %d %d] for /Contents %d-%d in %d bytes, revision end %d", a0, a, b, c, pos, end, size, rev)
		}
	})
}

// FuzzSign: signing any file that parses either fails with an error or
// yields a file whose prefix is the input and whose new signature
// verifies over its byte range.
func FuzzSign(f *testing.F) {
	addCorpusSeeds(f)
	p := testPKI(f)
	store := p.store()
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Sign(b, p.leafKey, p.cert, nil, SignOptions{Visible: &Placement{Page: 1, X: 10, Y: 10, W: 100, H: 40}})
		if err != nil {
			return
		}
		if !bytes.HasPrefix(out, b) {
			t.Fatal("the input is not a prefix of the output")
		}
		res, err := Verify(out, VerifyOptions{Store: store})
		if err != nil {
			t.Fatalf("the signed file does not parse: %v", err)
		}
		last := res.Signatures[len(res.Signatures)-1]
		for _, c := range last.Checks {
			if (c.Name == CheckDigest || c.Name == CheckByteRange) && c.Result != trust.Pass {
				t.Fatalf("our own signature: %+v", c)
			}
		}
	})
}
