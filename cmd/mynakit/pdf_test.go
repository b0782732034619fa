package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/tlv"
)

// The unsigned and already-signed PDFs of pdfsig's corpus (its README
// says who made each).
var pdfCorpus = []string{"classic.pdf", "objstm.pdf", "linearized.pdf", "acroform.pdf", "pdf20.pdf", "ghostscript.pdf", "signed.pdf", "poppler-signed.pdf"}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (make deps)", name)
		}
		t.Skipf("%s not installed (make deps)", name)
	}
}

// nssDB is an NSS database trusting the simulator's roots, for poppler's
// pdfsig. The simulator's signing certificate is added too, without any
// trust: poppler 22.12 with NSS 3.87 reports "Unknown issue with
// Certificate" for the second signature by one certificate that is only
// in the signatures (also for two signatures pdfsig itself makes), and
// validates it once the certificate is in the database.
func nssDB(t *testing.T) string {
	t.Helper()
	needTool(t, "certutil")
	dir := t.TempDir()
	if b, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v %s", err, b)
	}
	roots, _ := simulator.TestHierarchy{}.TestAnchors()
	for i := 0; ; i++ {
		var blk *pem.Block
		if blk, roots = pem.Decode(roots); blk == nil {
			break
		}
		p := filepath.Join(dir, fmt.Sprintf("root%d.pem", i))
		os.WriteFile(p, pem.EncodeToMemory(blk), 0o600)
		if b, err := exec.Command("certutil", "-A", "-d", "sql:"+dir, "-n", fmt.Sprintf("sim root %d", i), "-t", "CT,C,C", "-i", p).CombinedOutput(); err != nil {
			t.Fatalf("certutil -A: %v %s", err, b)
		}
	}
	p := filepath.Join(dir, "signer.pem")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: simCert(t, myna.JPKISignCert)}), 0o600)
	if b, err := exec.Command("certutil", "-A", "-d", "sql:"+dir, "-n", "sim signer", "-t", ",,", "-i", p).CombinedOutput(); err != nil {
		t.Fatalf("certutil -A: %v %s", err, b)
	}
	return "sql:" + dir
}

// popplerValid runs pdfsig and requires want signatures, each valid and
// trusted.
func popplerValid(t *testing.T, nss, file string, want int) {
	t.Helper()
	out, err := exec.Command("pdfsig", "-nssdir", nss, file).CombinedOutput()
	s := string(out)
	if err != nil || strings.Count(s, "Signature is Valid.") != want || strings.Count(s, "Certificate is Trusted.") != want {
		t.Fatalf("poppler pdfsig on %s (want %d valid): %v\n%s", filepath.Base(file), want, err, s)
	}
}

func qpdfCheck(t *testing.T, file string) {
	t.Helper()
	if out, err := exec.Command("qpdf", "--check", file).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check %s: %v\n%s", filepath.Base(file), err, out)
	}
}

type pdfVerifyJSON struct {
	Verdict    string `json:"verdict"`
	Signatures []struct {
		Field     string  `json:"field"`
		ByteRange []int64 `json:"byte_range"`
		Verdict   string  `json:"verdict"`
		Timestamp string  `json:"timestamp"`
		Name      string  `json:"signer_name"`
		Checks    []struct {
			Name, Result, Detail string
		} `json:"checks"`
	} `json:"signatures"`
}

func pdfVerify(t *testing.T, file string, extra ...string) (pdfVerifyJSON, string, int) {
	t.Helper()
	args := append([]string{"--simulator", "pdf", "verify", "--json"}, extra...)
	out, errs, code := run(t, "", append(args, file)...)
	var v pdfVerifyJSON
	if code != exitError3 {
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("pdf verify --json: %v\n%s", err, out)
		}
	}
	return v, out + errs, code
}

func corpusFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pdfsig", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	os.WriteFile(p, b, 0o600)
	return p
}

// Every corpus file signed on the simulator is accepted by poppler's
// pdfsig with the simulator's roots as trust, passes qpdf --check and
// verifies as genuine; signed twice, both signatures stay valid in both.
func TestPDFSignCorpusInterop(t *testing.T) {
	needTool(t, "pdfsig")
	needTool(t, "qpdf")
	nss := nssDB(t)
	dir := t.TempDir()
	for _, name := range pdfCorpus {
		t.Run(name, func(t *testing.T) {
			in := corpusFile(t, dir, name)
			before := 0
			if strings.HasSuffix(name, "signed.pdf") {
				before = 1
			}
			once := strings.TrimSuffix(in, ".pdf") + "-1.pdf"
			twice := strings.TrimSuffix(in, ".pdf") + "-2.pdf"
			if out, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "pdf", "sign", in, "-o", once, "--reason", "承認", "--location", "清瀬市"); code != 0 {
				t.Fatalf("pdf sign: exit %d %s %s", code, out, errs)
			}
			src, _ := os.ReadFile(in)
			got, _ := os.ReadFile(once)
			if !bytes.HasPrefix(got, src) {
				t.Fatal("the original is not a byte-identical prefix")
			}
			if fi, _ := os.Stat(once); fi.Mode().Perm() != 0o600 {
				t.Errorf("signed PDF mode %v", fi.Mode())
			}
			qpdfCheck(t, once)
			popplerValid(t, nss, once, before+1)
			if v, out, code := pdfVerify(t, once); code != 0 || v.Verdict != "genuine" || len(v.Signatures) != before+1 || v.Signatures[before].Name != "黒桐　幹也" {
				t.Fatalf("pdf verify: exit %d\n%s", code, out)
			}
			if out, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "pdf", "sign", once, "-o", twice); code != 0 {
				t.Fatalf("second pdf sign: exit %d %s %s", code, out, errs)
			}
			qpdfCheck(t, twice)
			popplerValid(t, nss, twice, before+2)
			if v, out, code := pdfVerify(t, twice); code != 0 || len(v.Signatures) != before+2 {
				t.Fatalf("pdf verify twice: exit %d\n%s", code, out)
			}
		})
	}
}

func simSignRoot(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	img := defaultImage(t)
	obj, _, err := tlv.Parse(efData(t, img, myna.JPKI, myna.JPKISignCACert))
	if err != nil {
		t.Fatal(err)
	}
	root, err := x509.ParseCertificate(obj.Raw)
	if err != nil {
		t.Fatal(err)
	}
	return root, simKey(t, "keys/jpki-sign-root.pem")
}

func simKey(t *testing.T, name string) *rsa.PrivateKey {
	t.Helper()
	b, err := fs.ReadFile(simulator.TestData(), name)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// B-T and B-LT: --tsa adds a signature timestamp the verifier trusts with
// --tsa-root; --crl adds a DSS; a CRL listing the signer fails it.
func TestPDFSignTimestampAndDSS(t *testing.T) {
	needTool(t, "pdfsig")
	url, tsaRoot := newTSAServer(t)
	dir := t.TempDir()
	in := corpusFile(t, dir, "objstm.pdf")
	root, rootKey := simSignRoot(t)
	crl := func(revoked ...*big.Int) string {
		tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour)}
		for _, s := range revoked {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-2 * time.Hour)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, root, rootKey)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("crl%d.der", len(revoked)))
		os.WriteFile(p, der, 0o600)
		return p
	}
	good := crl()
	out := filepath.Join(dir, "lt.pdf")
	if o, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "pdf", "sign", in, "-o", out, "--tsa", url, "--crl", good, "--visible", "1:72,72,220,60"); code != 0 || !strings.Contains(o, "B-LT") {
		t.Fatalf("pdf sign --tsa --crl: exit %d %s %s", code, o, errs)
	}
	b, _ := os.ReadFile(out)
	if !bytes.Contains(b, []byte("/DSS")) || !bytes.Contains(b, []byte("/UniJIS-UCS2-HW-H")) {
		t.Error("no DSS or no stamp font in the output")
	}
	qpdfCheck(t, out)
	popplerValid(t, nssDB(t), out, 1)
	v, o, code := pdfVerify(t, out, "--tsa-root", tsaRoot, "--crl", good)
	if code != 0 || v.Signatures[0].Timestamp == "" {
		t.Fatalf("verify B-LT: exit %d\n%s", code, o)
	}
	// Without the authority trusted, the timestamp is reported but unused.
	if v, o, code := pdfVerify(t, out); code != 0 || v.Signatures[0].Timestamp != "" {
		t.Fatalf("verify without --tsa-root: exit %d\n%s", code, o)
	}
	// A CRL revoking the signer fails it.
	signer, _ := x509.ParseCertificate(simCert(t, myna.JPKISignCert))
	if _, o, code := pdfVerify(t, out, "--crl", crl(signer.SerialNumber)); code != exitNotGenuine || !strings.Contains(o, "revoked") {
		t.Fatalf("revoked: exit %d\n%s", code, o)
	}
}

func simCert(t *testing.T, fid uint16) []byte {
	t.Helper()
	obj, _, err := tlv.Parse(efData(t, defaultImage(t), myna.JPKI, fid))
	if err != nil {
		t.Fatal(err)
	}
	return obj.Raw
}

var startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)

// appendUpdate appends a classic-xref incremental update holding objs
// (object number -> body) to b.
func appendUpdate(t *testing.T, b []byte, size int, objs map[int]string) []byte {
	t.Helper()
	m := startxrefRE.FindSubmatch(b)
	if m == nil {
		t.Fatal("no startxref")
	}
	out := bytes.Clone(b)
	var xref strings.Builder
	for n := 0; n < size; n++ {
		body, ok := objs[n]
		if !ok {
			continue
		}
		fmt.Fprintf(&xref, "%d 1\n%010d 00000 n\r\n", n, len(out))
		out = append(out, fmt.Sprintf("%d 0 obj\n%s\nendobj\n", n, body)...)
	}
	at := len(out)
	out = append(out, fmt.Sprintf("xref\n%strailer\n<< /Size %d /Root 1 0 R /Prev %s >>\nstartxref\n%d\n%%%%EOF\n", xref.String(), size, m[1], at)...)
	return out
}

// Each tampering fails with exit 1 and names its finding.
func TestPDFTamperingCLI(t *testing.T) {
	dir := t.TempDir()
	in := corpusFile(t, dir, "classic.pdf")
	signedPath := filepath.Join(dir, "signed.pdf")
	if o, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "pdf", "sign", in, "-o", signedPath); code != 0 {
		t.Fatalf("sign: %d %s %s", code, o, errs)
	}
	signed, _ := os.ReadFile(signedPath)
	brRE := regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+) *\]`)
	br := brRE.FindSubmatch(signed)
	contents := regexp.MustCompile(`/Contents <[0-9A-Fa-f]+>`).Find(signed)
	fileOf := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	expectFail := func(t *testing.T, file, check, detail string) {
		t.Helper()
		v, o, code := pdfVerify(t, file)
		if code != exitNotGenuine || v.Verdict != "not-genuine" {
			t.Fatalf("exit %d\n%s", code, o)
		}
		for _, s := range v.Signatures {
			for _, c := range s.Checks {
				if c.Name == check && c.Result == "fail" && strings.Contains(c.Detail, detail) {
					return
				}
			}
		}
		t.Fatalf("no failed %s naming %q\n%s", check, detail, o)
	}
	t.Run("one byte changed inside a range", func(t *testing.T) {
		b := bytes.Clone(signed)
		b[bytes.Index(b, []byte("parties"))] = 'P'
		expectFail(t, fileOf("byte.pdf", b), "cms:message-digest", "changed")
	})
	t.Run("a byte range with a gap", func(t *testing.T) {
		old := string(br[0])
		forged := fmt.Sprintf("/ByteRange [0 %s %s %s", string(br[1][:len(br[1])-1]), br[2], br[3])
		forged += strings.Repeat(" ", len(old)-len(forged)-1) + "]"
		expectFail(t, fileOf("gap.pdf", bytes.Replace(signed, []byte(old), []byte(forged), 1)), "pdf:byte-range", "uncovered")
	})
	t.Run("a second Sig with a forged byte range", func(t *testing.T) {
		b := appendUpdate(t, signed, 40, map[int]string{39: "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached " + string(br[0]) + " " + string(contents) + " >>"})
		expectFail(t, fileOf("forged.pdf", b), "pdf:byte-range", "uncovered")
	})
	t.Run("an update replacing a page's content", func(t *testing.T) {
		body := "BT /F1 24 Tf 72 720 Td (Contract: the parties DISAGREE.) Tj ET"
		b := appendUpdate(t, signed, 40, map[int]string{6: fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(body), body)})
		expectFail(t, fileOf("shadow.pdf", b), "pdf:later-changes", "object 6")
	})
	t.Run("a signing certificate from the authentication anchor", func(t *testing.T) {
		auth, _ := x509.ParseCertificate(simCert(t, myna.JPKIAuthCert))
		src, _ := os.ReadFile(in)
		b, err := pdfsig.Sign(src, simKey(t, "keys/user-auth.pem"), auth, nil, pdfsig.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		expectFail(t, fileOf("auth.pdf", b), "x509:sign-certificate", "signing (署名用) root is required")
	})
	t.Run("a certificate expired now, without a timestamp", func(t *testing.T) {
		root, rootKey := simSignRoot(t)
		cur, _ := x509.ParseCertificate(simCert(t, myna.JPKISignCert))
		tmpl := *cur
		tmpl.SerialNumber = big.NewInt(77)
		tmpl.NotBefore, tmpl.NotAfter = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), time.Now().AddDate(0, -1, 0)
		key := simKey(t, "keys/user-sign.pem")
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, root, &key.PublicKey, rootKey)
		if err != nil {
			t.Fatal(err)
		}
		old, _ := x509.ParseCertificate(der)
		src, _ := os.ReadFile(in)
		b, err := pdfsig.Sign(src, key, old, nil, pdfsig.SignOptions{Time: time.Now().AddDate(-2, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		expectFail(t, fileOf("expired.pdf", b), "x509:sign-certificate", "no trusted timestamp")
	})
}

// Bad input is exit 3 with a message, never a panic: truncated,
// encrypted, not a PDF, a /Prev loop.
func TestPDFBadInputCLI(t *testing.T) {
	dir := t.TempDir()
	in := corpusFile(t, dir, "classic.pdf")
	src, _ := os.ReadFile(in)
	cases := map[string][]byte{
		"truncated.pdf": src[:len(src)/2],
		"encrypted.pdf": bytes.Replace(src, []byte("/Root 1 0 R"), []byte("/Encrypt 2 0 R /Root 1 0 R"), 1),
		"text.pdf":      []byte("not a pdf at all\n"),
		"loop.pdf":      bytes.Replace(src, []byte("/Info 2 0 R"), []byte("/Prev "+string(startxrefRE.FindSubmatch(src)[1])), 1),
	}
	for name, b := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		if _, errs, code := run(t, "", "--simulator", "pdf", "verify", p); code != exitError3 || errs == "" {
			t.Errorf("%s: verify exit %d %q", name, code, errs)
		}
		if _, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "pdf", "sign", p, "-o", p+".out"); code != exitError3 || errs == "" {
			t.Errorf("%s: sign exit %d %q", name, code, errs)
		}
	}
	if _, errs, _ := run(t, "", "--simulator", "pdf", "verify", filepath.Join(dir, "encrypted.pdf")); !strings.Contains(errs, "encrypted") {
		t.Errorf("encrypted: %q", errs)
	}
}

// --field signs the form's existing empty signature field (its rectangle
// gets the stamp); poppler names the field.
func TestPDFSignExistingFieldCLI(t *testing.T) {
	needTool(t, "pdfsig")
	needTool(t, "qpdf")
	dir := t.TempDir()
	in := corpusFile(t, dir, "acroform.pdf")
	out := filepath.Join(dir, "field.pdf")
	if o, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "pdf", "sign", in, "-o", out, "--field", "ApplicantSignature"); code != 0 {
		t.Fatalf("sign --field: exit %d %s %s", code, o, errs)
	}
	qpdfCheck(t, out)
	popplerValid(t, nssDB(t), out, 1)
	b, _ := exec.Command("pdfsig", "-nocert", out).CombinedOutput()
	if !strings.Contains(string(b), "Signature Field Name: ApplicantSignature") {
		t.Errorf("poppler does not see the field signed:\n%s", b)
	}
	v, o, code := pdfVerify(t, out)
	if code != 0 || v.Signatures[0].Field != "ApplicantSignature" || len(v.Signatures[0].ByteRange) != 4 {
		t.Fatalf("verify: exit %d\n%s", code, o)
	}
	if _, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "pdf", "sign", out, "-o", out+".2", "--field", "applicant"); code != exitError3 || !strings.Contains(errs, "not a signature field") {
		t.Fatalf("a text field signed: exit %d %s", code, errs)
	}
}
