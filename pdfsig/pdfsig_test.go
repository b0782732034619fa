package pdfsig

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/trust"
)

// pki is a test hierarchy shaped like J-LIS's: a signing root and an
// authentication root (told apart by their OU), and end entities.
type pki struct {
	signRoot, authRoot *x509.Certificate
	signKey, authKey   *rsa.PrivateKey
	leafKey            *rsa.PrivateKey
	cert, authCert     *x509.Certificate
	expired            *x509.Certificate
}

var (
	testPKIOnce sync.Once
	testPKIVal  *pki
)

func testPKI(t testing.TB) *pki {
	t.Helper()
	testPKIOnce.Do(func() {
		p := &pki{}
		var err error
		mk := func() *rsa.PrivateKey {
			k, e := rsa.GenerateKey(rand.Reader, 2048)
			if e != nil {
				err = e
			}
			return k
		}
		p.signKey, p.authKey, p.leafKey = mk(), mk(), mk()
		root := func(ou string, k *rsa.PrivateKey, serial int64) *x509.Certificate {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial),
				Subject:   pkix.Name{Country: []string{"JP"}, Organization: []string{"JPKI-PDFTEST"}, OrganizationalUnit: []string{ou}},
				NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
				IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
			der, e := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
			if e != nil {
				err = e
			}
			c, _ := x509.ParseCertificate(der)
			return c
		}
		p.signRoot = root("JPKI for digital signature", p.signKey, 1)
		p.authRoot = root("JPKI for user authentication", p.authKey, 2)
		leaf := func(parent *x509.Certificate, pk *rsa.PrivateKey, serial int64, from, to time.Time) *x509.Certificate {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{Country: []string{"JP"}, CommonName: "PDF test signer"},
				NotBefore: from, NotAfter: to, SubjectKeyId: []byte{0x4b, 0x49, byte(serial)},
				KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
			der, e := x509.CreateCertificate(rand.Reader, tmpl, parent, &p.leafKey.PublicKey, pk)
			if e != nil {
				err = e
			}
			c, _ := x509.ParseCertificate(der)
			return c
		}
		now := time.Now()
		p.cert = leaf(p.signRoot, p.signKey, 10, now.Add(-24*time.Hour), now.AddDate(1, 0, 0))
		p.authCert = leaf(p.authRoot, p.authKey, 11, now.Add(-24*time.Hour), now.AddDate(1, 0, 0))
		p.expired = leaf(p.signRoot, p.signKey, 12, now.Add(-40*time.Hour), now.Add(-30*time.Hour))
		if err != nil {
			panic(err)
		}
		testPKIVal = p
	})
	return testPKIVal
}

func (p *pki) store() *trust.Store {
	s := &trust.Store{}
	s.AddRoot(p.signRoot, trust.Anchor{Name: "test signing root"})
	s.AddRoot(p.authRoot, trust.Anchor{Name: "test authentication root"})
	return s
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var corpus = []string{"classic.pdf", "objstm.pdf", "linearized.pdf", "acroform.pdf", "pdf20.pdf", "ghostscript.pdf"}

func signWith(t testing.TB, src []byte, cert *x509.Certificate, opts SignOptions) []byte {
	t.Helper()
	p := testPKI(t)
	out, err := Sign(src, p.leafKey, cert, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func verify(t testing.TB, b []byte) *Result {
	t.Helper()
	res, err := Verify(b, VerifyOptions{Store: testPKI(t).store()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func failed(res *Result, name trust.CheckName, detail string) bool {
	for _, c := range res.Checks {
		if c.Name == name && c.Result == trust.Fail && strings.Contains(c.Detail, detail) {
			return true
		}
	}
	return false
}

func TestPDFSignCorpus(t *testing.T) {
	p := testPKI(t)
	for _, name := range corpus {
		t.Run(name, func(t *testing.T) {
			src := readCorpus(t, name)
			out := signWith(t, src, p.cert, SignOptions{Reason: "契約に同意します", Location: "東京"})
			if !bytes.HasPrefix(out, src) {
				t.Fatal("the original is not a prefix of the signed file")
			}
			res := verify(t, out)
			if res.Verdict != trust.Genuine || len(res.Signatures) != 1 {
				t.Fatalf("verdict %s, %d signatures: %+v", res.Verdict, len(res.Signatures), res.Checks)
			}
			// A second signature keeps the first valid.
			out2 := signWith(t, out, p.cert, SignOptions{})
			res = verify(t, out2)
			if res.Verdict != trust.Genuine || len(res.Signatures) != 2 {
				t.Fatalf("twice: verdict %s, %d signatures: %+v", res.Verdict, len(res.Signatures), res.Checks)
			}
			if len(res.Signatures[0].Changes) == 0 {
				t.Error("the first signature reports no later change")
			}
			for _, c := range res.Signatures[0].Changes {
				if c.Revision != int64(len(out2)) {
					t.Errorf("change %+v attributed to revision %d, not the second signature's (%d)", c, c.Revision, len(out2))
				}
			}
		})
	}
}

func TestPDFSignExistingField(t *testing.T) {
	p := testPKI(t)
	out := signWith(t, readCorpus(t, "acroform.pdf"), p.cert, SignOptions{Field: "ApplicantSignature"})
	res := verify(t, out)
	if res.Verdict != trust.Genuine || res.Signatures[0].Field != "ApplicantSignature" {
		t.Fatalf("%s %+v", res.Verdict, res.Signatures)
	}
	if !bytes.Contains(out[len(readCorpus(t, "acroform.pdf")):], []byte("/HeiseiKakuGo-W5")) {
		t.Error("the existing field's rectangle got no stamp")
	}
	if _, err := Sign(out, p.leafKey, p.cert, nil, SignOptions{Field: "ApplicantSignature"}); err == nil {
		t.Error("a signed field was signed again")
	}
	if _, err := Sign(out, p.leafKey, p.cert, nil, SignOptions{Field: "applicant"}); err == nil {
		t.Error("a text field was signed")
	}
}

func TestPDFVisibleStamp(t *testing.T) {
	p := testPKI(t)
	out := signWith(t, readCorpus(t, "classic.pdf"), p.cert, SignOptions{Visible: &Placement{Page: 2, X: 72, Y: 72, W: 200, H: 50}, SignerName: "黒桐　幹也"})
	if res := verify(t, out); res.Verdict != trust.Genuine {
		t.Fatalf("%s %+v", res.Verdict, res.Checks)
	}
	// The name is drawn as UTF-16 codes of the UniJIS-UCS2 CMap.
	if !bytes.Contains(out, []byte("9ED26850")) || !bytes.Contains(out, []byte("/UniJIS-UCS2-HW-H")) {
		t.Error("the stamp does not draw the Japanese name")
	}
	if _, err := Sign(readCorpus(t, "classic.pdf"), p.leafKey, p.cert, nil, SignOptions{Visible: &Placement{Page: 3, W: 1, H: 1}}); err == nil {
		t.Error("a stamp on page 3 of 2 was placed")
	}
}

func TestPDFEncryptedRefused(t *testing.T) {
	src := readCorpus(t, "classic.pdf")
	enc := bytes.Replace(src, []byte("/Root 1 0 R"), []byte("/Encrypt 9 0 R /Root 1 0 R"), 1)
	// Keep startxref right: the trailer comes after the xref.
	if _, err := Parse(enc); err != ErrEncrypted {
		t.Fatalf("encrypted: %v", err)
	}
	if _, err := Sign(enc, testPKI(t).leafKey, testPKI(t).cert, nil, SignOptions{}); err != ErrEncrypted {
		t.Fatalf("sign encrypted: %v", err)
	}
}

// Every tampering fails with the check that names it.
func TestPDFTampering(t *testing.T) {
	p := testPKI(t)
	src := readCorpus(t, "classic.pdf")
	signed := signWith(t, src, p.cert, SignOptions{})
	res := verify(t, signed)
	br := res.Signatures[0].ByteRange

	t.Run("byte changed inside a range", func(t *testing.T) {
		b := bytes.Clone(signed)
		i := bytes.Index(b, []byte("Contract"))
		b[i] = 'K'
		if r := verify(t, b); r.Verdict != trust.NotGenuine || !failed(r, CheckDigest, "changed") {
			t.Fatalf("%s %+v", r.Verdict, r.Checks)
		}
	})
	t.Run("byte range with a gap", func(t *testing.T) {
		b := bytes.Clone(signed)
		old := []byte("/ByteRange [0 " + itoa(br[1]) + " " + itoa(br[2]) + " " + itoa(br[3]))
		i := bytes.Index(b, old)
		forged := "/ByteRange [0 " + itoa(br[1]-10) + " " + itoa(br[2]) + " " + itoa(br[3])
		forged += strings.Repeat(" ", len(old)-len(forged))
		copy(b[i:], forged)
		if r := verify(t, b); r.Verdict != trust.NotGenuine || !failed(r, CheckByteRange, "uncovered") {
			t.Fatalf("%s %+v", r.Verdict, r.Checks)
		}
	})
	t.Run("second Sig with a forged byte range", func(t *testing.T) {
		// An update adds a /Sig that copies the real signature's
		// /Contents and /ByteRange: the hole is not its own /Contents.
		d, err := Parse(signed)
		if err != nil {
			t.Fatal(err)
		}
		u := newUpdate(d)
		orig := d.get(Ref{res.Signatures[0].Object, 0}).(Dict)
		u.add(Dict{"Type": Name("Sig"), "Filter": Name("Adobe.PPKLite"), "SubFilter": Name("ETSI.CAdES.detached"),
			"ByteRange": orig["ByteRange"], "Contents": orig["Contents"]})
		b := append(bytes.Clone(signed), u.bytes(int64(len(signed)))...)
		r := verify(t, b)
		if r.Verdict != trust.NotGenuine || len(r.Signatures) != 2 || !failed(r, CheckByteRange, "uncovered") {
			t.Fatalf("%s %d %+v", r.Verdict, len(r.Signatures), r.Checks)
		}
	})
	t.Run("update replacing a page's content", func(t *testing.T) {
		d, err := Parse(signed)
		if err != nil {
			t.Fatal(err)
		}
		u := newUpdate(d)
		u.strm[6] = []byte("BT /F1 24 Tf 72 720 Td (Contract: the parties DISAGREE.) Tj ET")
		u.replace(Ref{6, 0}, Dict{"Length": int64(len(u.strm[6]))})
		b := append(bytes.Clone(signed), u.bytes(int64(len(signed)))...)
		r := verify(t, b)
		if r.Verdict != trust.NotGenuine || !failed(r, CheckLaterChanges, "object 6") {
			t.Fatalf("%s %+v", r.Verdict, r.Checks)
		}
		// The signature's own bytes are intact.
		for _, c := range r.Checks {
			if c.Name == CheckDigest && c.Result != trust.Pass {
				t.Errorf("digest: %+v", c)
			}
		}
	})
	t.Run("signing certificate from the authentication anchor", func(t *testing.T) {
		r := verify(t, signWith(t, src, p.authCert, SignOptions{}))
		if r.Verdict != trust.NotGenuine || !failed(r, trust.CheckSignCert, "signing (署名用) root is required") {
			t.Fatalf("%s %+v", r.Verdict, r.Checks)
		}
	})
	t.Run("expired now without a timestamp", func(t *testing.T) {
		r := verify(t, signWith(t, src, p.expired, SignOptions{Time: time.Now().Add(-35 * time.Hour)}))
		if r.Verdict != trust.NotGenuine || !failed(r, trust.CheckSignCert, "no trusted timestamp") {
			t.Fatalf("%s %+v", r.Verdict, r.Checks)
		}
	})
	t.Run("signature stripped by a later update", func(t *testing.T) {
		d, err := Parse(signed)
		if err != nil {
			t.Fatal(err)
		}
		cat, catRef, _ := d.Catalog()
		cat = clone(cat)
		delete(cat, "AcroForm")
		pages, _ := d.Pages()
		page := clone(d.dict(pages[0]))
		delete(page, "Annots")
		u := newUpdate(d)
		u.replace(catRef, cat)
		u.replace(pages[0], page)
		sigNum := res.Signatures[0].Object
		u.replace(Ref{sigNum, 0}, Dict{}) // the /Sig itself overwritten
		b := append(bytes.Clone(signed), u.bytes(int64(len(signed)))...)
		r := verify(t, b)
		if r.Verdict != trust.NotGenuine || !failed(r, CheckSignatures, "removed signatures") {
			t.Fatalf("%s %+v", r.Verdict, r.Checks)
		}
	})
	t.Run("data after the last EOF", func(t *testing.T) {
		r := verify(t, append(bytes.Clone(signed), "1 0 obj <<>> endobj\n"...))
		if r.Verdict != trust.NotGenuine || !failed(r, CheckTrailingData, "after the last") {
			t.Fatalf("%s %+v", r.Verdict, r.Checks)
		}
	})
}

func TestPDFUnsigned(t *testing.T) {
	res := verify(t, readCorpus(t, "classic.pdf"))
	if res.Verdict != trust.Undecided || len(res.Signatures) != 0 {
		t.Fatalf("%s %+v", res.Verdict, res.Checks)
	}
}

// A signer that fails leaves no output.
func TestPDFSignerError(t *testing.T) {
	_, err := Sign(readCorpus(t, "classic.pdf"), failingSigner{testPKI(t).leafKey}, testPKI(t).cert, nil, SignOptions{})
	if err == nil || !strings.Contains(err.Error(), "card gone") {
		t.Fatal(err)
	}
}

type failingSigner struct{ k *rsa.PrivateKey }

func (f failingSigner) Public() crypto.PublicKey { return f.k.Public() }
func (failingSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errCardGone
}

var errCardGone = errors.New("card gone")

// A signer named by subject key ID (CMS version 3) is found; a CMS whose
// key ID names no certificate it carries fails.
func TestPDFSignerByKeyID(t *testing.T) {
	p := testPKI(t)
	out := signWith(t, readCorpus(t, "classic.pdf"), p.cert, SignOptions{byKeyID: true})
	res := verify(t, out)
	if res.Verdict != trust.Genuine {
		t.Fatalf("%s %+v", res.Verdict, res.Checks)
	}
	found := false
	for _, c := range res.Checks {
		found = found || c.Name == CheckSigner && strings.Contains(c.Detail, "key ID")
	}
	if !found {
		t.Errorf("signer not found by key ID: %+v", res.Checks)
	}
	// The key ID, changed, names nobody: [0] 03 4B 49 0A becomes 0B.
	sid := fmt.Sprintf("80%02x%x", len(p.cert.SubjectKeyId), p.cert.SubjectKeyId)
	if !bytes.Contains(out, []byte(sid)) {
		t.Fatal("the key ID is not in /Contents")
	}
	bad := bytes.Replace(out, []byte(sid), []byte(sid[:len(sid)-1]+"b"), 1)
	if r := verify(t, bad); r.Verdict != trust.NotGenuine || !failed(r, CheckSigner, "not in the CMS") {
		t.Fatalf("%s %+v", r.Verdict, r.Checks)
	}
}
