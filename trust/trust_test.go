package trust

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEmbeddedRootsVerifyThemselves(t *testing.T) {
	s := Embedded()
	want := map[string]string{ // SHA-256 of DER, docs/card.md §5.3
		"4dcfc4ca0aaf9fb2a3081b3f0c991c320b3acc008667a341eeaec5af1d58ca7d": "auth gen 1",
		"0d98de47fc11b7f67126874b7028b6026a803d2638d6edfe53176953961fade6": "auth gen 2",
		"64114f29620c24ed2631d46476a040e7ee740d956089c00b036a6a8118c322b5": "auth gen 3",
		"19645405a1fe14377434bd55957628ac4038557c542403a2243f21c706fc9355": "sign gen 1",
		"79679c33e4cc9319440f1ad120a597ff1844e2ef217063adb176966fd5e6fbeb": "sign gen 2",
		"d227f6cde11d35c5252178f106f843d24651944975413b539fa2fb68dbfa365f": "sign gen 3",
	}
	roots := s.Roots()
	if len(roots) != 6 {
		t.Fatalf("%d embedded roots, want 6", len(roots))
	}
	for _, r := range roots {
		sum := sha256.Sum256(r.Cert.Raw)
		if _, ok := want[hex.EncodeToString(sum[:])]; !ok {
			t.Errorf("%s: fingerprint %x not in docs/card.md", r.Anchor.Name, sum)
		}
		if err := r.Cert.CheckSignatureFrom(r.Cert); err != nil {
			t.Errorf("%s does not verify itself: %v", r.Anchor.Name, err)
		}
		if !r.Cert.IsCA || r.Cert.KeyUsage&x509.KeyUsageCertSign == 0 || !r.Anchor.Production {
			t.Errorf("%s: not a production CA anchor", r.Anchor.Name)
		}
		if !strings.Contains(r.Cert.Subject.String(), "JPKI") {
			t.Errorf("%s: subject %s", r.Anchor.Name, r.Cert.Subject)
		}
	}
}

func TestEmbeddedCVKeys(t *testing.T) {
	s := Embedded()
	for _, id := range []string{"353030303032300805303031000000a8", "35303030303233080530303100000000", "35303030303333080530303100000000"} {
		b, _ := hex.DecodeString(id)
		k, ok := s.CVKey(b)
		if !ok || !k.Anchor.Production || k.Public.N.BitLen() != 2048 || k.Public.E != 65537 {
			t.Errorf("production CV key %s missing or wrong: %+v", KeyIDString(b), k.Anchor)
		}
	}
	test, _ := hex.DecodeString("36303030303233080530303100000000")
	if _, ok := s.CVKey(test); ok {
		t.Error("a JPKI-TEST key is trusted by default")
	}
	s.AddJPKITest()
	if k, ok := s.CVKey(test); !ok || k.Anchor.Production {
		t.Error("AddJPKITest did not add the test key as a test anchor")
	}
	if got := KeyIDString(test); got != "6000023/001" {
		t.Errorf("KeyIDString = %q", got)
	}
}

const (
	ouAuth = "JPKI for user authentication"
	ouSign = "JPKI for digital signature"
)

// testCA makes a small hierarchy: a signing-role root and a leaf it signs.
func testCA(t *testing.T, leafUsage x509.KeyUsage, notAfter time.Time) (root, leaf *x509.Certificate, rootKey *rsa.PrivateKey) {
	t.Helper()
	return testCAOf(t, ouSign, leafUsage, notAfter, nil)
}

// testCAOf makes a root whose subject names ou and a leaf it signs, with
// the extensions given.
func testCAOf(t *testing.T, ou string, leafUsage x509.KeyUsage, notAfter time.Time, tmpl func(*x509.Certificate)) (root, leaf *x509.Certificate, rootKey *rsa.PrivateKey) {
	t.Helper()
	rootKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	leafKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"JPKI-SIM"}, OrganizationalUnit: []string{ou}, CommonName: "root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3}}
	rootDER, err := x509.CreateCertificate(rand.Reader, rt, rt, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ = x509.ParseCertificate(rootDER)
	lt := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "leaf"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: leafUsage}
	if tmpl != nil {
		tmpl(lt)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, lt, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(leafDER)
	return root, leaf, rootKey
}

func TestVerifyCertificate(t *testing.T) {
	root, leaf, rootKey := testCA(t, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, time.Now().Add(time.Hour))
	s := Embedded()
	if c := s.VerifyCertificate(leaf, CertOptions{Name: "x"}); c.Result != Unknown {
		t.Fatalf("no anchor: %+v", c)
	}
	s.AddRoot(root, Anchor{Name: "test root"})
	c := s.VerifyCertificate(leaf, CertOptions{Name: "x509:sign-certificate", NonRepudiation: true})
	if c.Result != Pass || c.Anchor != "test root" {
		t.Fatalf("good chain: %+v", c)
	}
	// Expired: the chain still verifies, marked Expired, so the verdict is
	// never plain genuine.
	c = s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, At: time.Now().Add(48 * time.Hour)})
	if c.Result != Pass || !c.Expired || !strings.Contains(c.Detail, "expired") || Decide([]Check{c}) != GenuineExpired {
		t.Errorf("expired: %+v", c)
	}
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, At: time.Now().Add(-48 * time.Hour)}); c.Result != Fail || !strings.Contains(c.Detail, "not yet valid") {
		t.Errorf("not yet valid: %+v", c)
	}
	// One byte changed in the signature.
	raw := append([]byte(nil), leaf.Raw...)
	raw[len(raw)-10] ^= 1
	bad, err := x509.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.VerifyCertificate(bad, CertOptions{Name: CheckSignCert}); c.Result != Fail || c.Anchor != "test root" {
		t.Errorf("changed byte: %+v", c)
	}
	// Revoked.
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: leaf.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}}}, root, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := x509.ParseRevocationList(crlDER)
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, CRL: crl}); c.Result != Pass || !c.Expired || !strings.Contains(c.Detail, "revoked") {
		t.Errorf("revoked (card read): %+v", c)
	}
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, CRL: crl, RevokedFails: true}); c.Result != Fail || !strings.Contains(c.Detail, "revoked") {
		t.Errorf("revoked (signature): %+v", c)
	}
	// A CRL outside its thisUpdate-nextUpdate window cannot speak for now.
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, CRL: crl, Now: time.Now().Add(2 * time.Hour)}); c.Result != Unknown || !strings.Contains(c.Detail, "stale") {
		t.Errorf("stale CRL: %+v", c)
	}
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, CRL: crl, Now: time.Now().Add(-time.Hour)}); c.Result != Unknown || !strings.Contains(c.Detail, "future") {
		t.Errorf("future CRL: %+v", c)
	}
}

func TestVerifyKeyUsage(t *testing.T) {
	root, leaf, _ := testCAOf(t, ouSign, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour), nil)
	s := &Store{}
	s.AddRoot(root, Anchor{Name: "r"})
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert}); c.Result != Fail || !strings.Contains(c.Detail, "nonRepudiation") {
		t.Errorf("signing certificate without nonRepudiation accepted: %+v", c)
	}
	root, leaf, _ = testCAOf(t, ouAuth, x509.KeyUsageContentCommitment, time.Now().Add(time.Hour), nil)
	s.AddRoot(root, Anchor{Name: "a"})
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckAuthCert}); c.Result != Fail || !strings.Contains(c.Detail, "digitalSignature") {
		t.Errorf("authentication certificate without digitalSignature accepted: %+v", c)
	}
	root, leaf, _ = testCAOf(t, ouAuth, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour), nil)
	s.AddRoot(root, Anchor{Name: "a2"})
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckAuthCert}); c.Result != Pass {
		t.Errorf("auth certificate: %+v", c)
	}
}

// Finding 4 of issue 14: an anchor verifies only certificates of its own
// role. A signing certificate checked as the authentication certificate
// fails, and so does the converse; a root whose subject names no role
// verifies nothing.
func TestRootsHaveRoles(t *testing.T) {
	both := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	authRoot, authLeaf, _ := testCAOf(t, ouAuth, both, time.Now().Add(time.Hour), nil)
	signRoot, signLeaf, _ := testCAOf(t, ouSign, both, time.Now().Add(time.Hour), nil)
	s := &Store{}
	s.AddRoot(authRoot, Anchor{Name: "auth root"})
	s.AddRoot(signRoot, Anchor{Name: "sign root"})
	if r := s.Roots(); r[0].Role != CertRoleAuth || r[1].Role != CertRoleSign {
		t.Fatalf("roles %v %v", r[0].Role, r[1].Role)
	}
	if c := s.VerifyCertificate(authLeaf, CertOptions{Name: CheckAuthCert}); c.Result != Pass {
		t.Errorf("auth certificate as auth: %+v", c)
	}
	if c := s.VerifyCertificate(signLeaf, CertOptions{Name: CheckSignCert}); c.Result != Pass {
		t.Errorf("sign certificate as sign: %+v", c)
	}
	if c := s.VerifyCertificate(signLeaf, CertOptions{Name: CheckAuthCert}); c.Result != Fail || c.Anchor != "sign root" || !strings.Contains(c.Detail, "signing") {
		t.Errorf("signing certificate in the authentication EF: %+v", c)
	}
	if c := s.VerifyCertificate(authLeaf, CertOptions{Name: CheckSignCert}); c.Result != Fail {
		t.Errorf("authentication certificate as signing: %+v", c)
	}
	// The card's CA copies: each EF holds the root of its own role.
	if c := s.CompareCardCA(CheckSignCACert, authRoot, nil); c.Result != Fail {
		t.Errorf("auth root in the sign-CA EF: %+v", c)
	}
	if c := s.CompareCardCA(CheckAuthCACert, signRoot, nil); c.Result != Fail {
		t.Errorf("sign root in the auth-CA EF: %+v", c)
	}
	if c := s.CompareCardCA(CheckAuthCACert, signRoot, signLeaf); c.Result != Fail {
		t.Errorf("sign root and leaf in the auth EFs: %+v", c)
	}
	if c := s.CompareCardCA(CheckSignCACert, signRoot, nil); c.Result != Pass {
		t.Errorf("sign root in the sign-CA EF: %+v", c)
	}
	// A root that names no role verifies nothing.
	plain, leaf, _ := testCAOf(t, "Some CA", both, time.Now().Add(time.Hour), nil)
	s.AddRoot(plain, Anchor{Name: "plain"})
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert}); c.Result != Unknown {
		t.Errorf("root without a role: %+v", c)
	}
	// The embedded anchors carry the roles their files name.
	for _, r := range Embedded().Roots() {
		want := CertRoleAuth
		if strings.Contains(r.Anchor.Name, "signing") {
			want = CertRoleSign
		}
		if r.Role != want {
			t.Errorf("%s: role %v", r.Anchor.Name, r.Role)
		}
	}
}

// Finding 10 of issue 14: a CRL whose issuing distribution point does not
// cover the certificate cannot clear it.
func TestCRLScope(t *testing.T) {
	usage := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	root, leaf, rootKey := testCAOf(t, ouSign, usage, time.Now().Add(time.Hour), func(c *x509.Certificate) {
		c.CRLDistributionPoints = []string{"http://crl.example/part1.crl"}
	})
	s := &Store{}
	s.AddRoot(root, Anchor{Name: "r"})
	idp := func(fields ...[]byte) []byte {
		var b []byte
		for _, f := range fields {
			b = append(b, f...)
		}
		return append([]byte{0x30, byte(len(b))}, b...)
	}
	dp := func(uri string) []byte { // [0] { [0] { [6] uri } }
		gn := append([]byte{0x86, byte(len(uri))}, uri...)
		full := append([]byte{0xA0, byte(len(gn))}, gn...)
		return append([]byte{0xA0, byte(len(full))}, full...)
	}
	crlWith := func(exts ...pkix.Extension) *x509.RevocationList {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(3), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour), ExtraExtensions: exts}, root, rootKey)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		return crl
	}
	ext := func(v []byte) pkix.Extension { return pkix.Extension{Id: oidIssuingDistPt, Critical: true, Value: v} }
	for _, tc := range []struct {
		name string
		crl  *x509.RevocationList
		want Result
	}{
		{"complete CRL", crlWith(), Pass},
		{"the certificate's distribution point", crlWith(ext(idp(dp("http://crl.example/part1.crl")))), Pass},
		{"another distribution point", crlWith(ext(idp(dp("http://crl.example/part2.crl")))), Unknown},
		{"CA certificates only", crlWith(ext(idp([]byte{0x82, 0x01, 0xFF}))), Unknown},
		{"some reasons only", crlWith(ext(idp([]byte{0x83, 0x02, 0x06, 0x40}))), Unknown},
		{"indirect", crlWith(ext(idp([]byte{0x84, 0x01, 0xFF}))), Unknown},
		{"user certificates only", crlWith(ext(idp([]byte{0x81, 0x01, 0xFF}))), Pass},
		{"delta CRL", crlWith(pkix.Extension{Id: oidDeltaCRL, Critical: true, Value: []byte{0x02, 0x01, 0x01}}), Unknown},
		{"unknown critical extension", crlWith(pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{0x05, 0x00}}), Unknown},
	} {
		if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, CRL: tc.crl}); c.Result != tc.want {
			t.Errorf("%s: %+v", tc.name, c)
		}
	}
	// A certificate without distribution points is covered only by a
	// complete CRL.
	root2, leaf2, key2 := testCAOf(t, ouSign, usage, time.Now().Add(time.Hour), nil)
	s.AddRoot(root2, Anchor{Name: "r2"})
	der, _ := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(4), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		ExtraExtensions: []pkix.Extension{ext(idp(dp("http://crl.example/part1.crl")))}}, root2, key2)
	crl2, _ := x509.ParseRevocationList(der)
	if c := s.VerifyCertificate(leaf2, CertOptions{Name: CheckSignCert, CRL: crl2}); c.Result != Unknown {
		t.Errorf("partitioned CRL for a certificate without distribution points: %+v", c)
	}
}

func TestDecide(t *testing.T) {
	if Decide(nil) != Undecided || Decide([]Check{{Result: Pass}}) != Genuine ||
		Decide([]Check{{Result: Pass}, {Result: Unknown}}) != Undecided ||
		Decide([]Check{{Result: Unknown}, {Result: Fail}}) != NotGenuine {
		t.Error("Decide disagrees with the rule")
	}
}

func TestCRLNotFromAnchor(t *testing.T) {
	root, leaf, _ := testCA(t, x509.KeyUsageContentCommitment, time.Now().Add(time.Hour))
	_, _, otherKey := testCA(t, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour))
	s := &Store{}
	s.AddRoot(root, Anchor{Name: "r"})
	// A CRL naming root as issuer but signed by another key.
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)},
		&x509.Certificate{Subject: root.Subject, SubjectKeyId: root.SubjectKeyId, KeyUsage: x509.KeyUsageCRLSign}, otherKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := x509.ParseRevocationList(crlDER)
	if c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert, CRL: crl}); c.Result != Unknown || !strings.Contains(c.Detail, "CRL") {
		t.Errorf("foreign CRL: %+v", c)
	}
}

func TestLoadCRLPEMAndDER(t *testing.T) {
	root, leaf, rootKey := testCA(t, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour))
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(2), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: leaf.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}}}, root, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	der := filepath.Join(dir, "c.crl")
	pemPath := filepath.Join(dir, "c.pem")
	os.WriteFile(der, crlDER, 0o600)
	os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER}), 0o600)
	for _, p := range []string{der, pemPath} {
		crl, err := LoadCRL(p)
		if err != nil || len(crl.RevokedCertificateEntries) != 1 {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestCompareCardCA(t *testing.T) {
	root, leaf, _ := testCA(t, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour))
	s := Embedded()
	if c := s.CompareCardCA("x509:sign-ca-certificate", root, leaf); c.Result != Unknown {
		t.Errorf("no anchor: %+v", c)
	}
	s.AddRoot(root, Anchor{Name: "test root"})
	if c := s.CompareCardCA("x509:sign-ca-certificate", root, leaf); c.Result != Pass || c.Anchor != "test root" {
		t.Errorf("same as anchor: %+v", c)
	}
	if c := s.CompareCardCA("x509:sign-ca-certificate", root, nil); c.Result != Pass || c.Anchor != "test root" {
		t.Errorf("same as anchor, no leaf: %+v", c)
	}
	// One byte changed in the card's copy (inside its signature).
	raw := append([]byte(nil), root.Raw...)
	raw[len(raw)-7] ^= 1
	bad, err := x509.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*x509.Certificate{leaf, nil} {
		if c := s.CompareCardCA("x509:sign-ca-certificate", bad, l); c.Result != Fail || c.Anchor != "test root" {
			t.Errorf("changed copy (leaf %v): %+v", l != nil, c)
		}
	}
	// An embedded J-LIS root in the card is recognised as that anchor.
	jlis := Embedded().Roots()[0]
	if c := s.CompareCardCA("x509:auth-ca-certificate", jlis.Cert, nil); c.Result != Pass || !jlis.Anchor.Production || c.Anchor != jlis.Anchor.Name {
		t.Errorf("J-LIS root: %+v", c)
	}
}

func TestAddDirNamesAnchorsAfterFiles(t *testing.T) {
	root, leaf, _ := testCA(t, x509.KeyUsageContentCommitment, time.Now().Add(time.Hour))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "test-roots.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600)
	keys, _ := anchorFiles.ReadFile("anchors/jlis-cv-ca-keys.json")
	os.WriteFile(filepath.Join(dir, "cv.json"), keys, 0o600)
	base := Embedded()
	s := base.Clone()
	if err := s.AddDir(dir); err != nil {
		t.Fatal(err)
	}
	if len(base.Roots()) != 6 {
		t.Error("AddDir on a clone changed the original")
	}
	c := s.VerifyCertificate(leaf, CertOptions{Name: CheckSignCert})
	if c.Result != Pass || !strings.Contains(c.Anchor, "test-roots.pem") {
		t.Errorf("trust-dir root: %+v", c)
	}
	test, _ := hex.DecodeString("36303030303233080530303100000000")
	if k, ok := s.CVKey(test); !ok || k.Anchor.Production || !strings.Contains(k.Anchor.Name, "cv.json") {
		t.Errorf("trust-dir CV key: %+v %v", k.Anchor, ok)
	}
	// The production keys keep their embedded anchors.
	prod, _ := hex.DecodeString("35303030303233080530303100000000")
	if k, _ := s.CVKey(prod); !k.Anchor.Production || !strings.Contains(k.Anchor.Name, "embedded") {
		t.Errorf("production key shadowed: %+v", k.Anchor)
	}
	if err := (&Store{}).AddDir(t.TempDir()); err == nil {
		t.Error("empty trust dir accepted")
	}
}
