package trust

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
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
	want := map[string]string{ // SHA-256 of DER, card reference §5.3
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
			t.Errorf("%s: fingerprint %x not in the card reference", r.Anchor.Name, sum)
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

// testCA makes a small hierarchy: a root and a leaf it signs.
func testCA(t *testing.T, leafUsage x509.KeyUsage, notAfter time.Time) (root, leaf *x509.Certificate, rootKey *rsa.PrivateKey) {
	t.Helper()
	rootKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	leafKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"JPKI-SIM"}, CommonName: "root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3}}
	rootDER, err := x509.CreateCertificate(rand.Reader, rt, rt, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ = x509.ParseCertificate(rootDER)
	lt := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "leaf"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: leafUsage}
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
	c = s.VerifyCertificate(leaf, CertOptions{At: time.Now().Add(48 * time.Hour)})
	if c.Result != Pass || !c.Expired || !strings.Contains(c.Detail, "expired") || Decide([]Check{c}) != GenuineExpired {
		t.Errorf("expired: %+v", c)
	}
	if c := s.VerifyCertificate(leaf, CertOptions{At: time.Now().Add(-48 * time.Hour)}); c.Result != Fail || !strings.Contains(c.Detail, "not yet valid") {
		t.Errorf("not yet valid: %+v", c)
	}
	// One byte changed in the signature.
	raw := append([]byte(nil), leaf.Raw...)
	raw[len(raw)-10] ^= 1
	bad, err := x509.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.VerifyCertificate(bad, CertOptions{}); c.Result != Fail || c.Anchor != "test root" {
		t.Errorf("changed byte: %+v", c)
	}
	// Revoked.
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: leaf.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}}}, root, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := x509.ParseRevocationList(crlDER)
	if c := s.VerifyCertificate(leaf, CertOptions{CRL: crl}); c.Result != Pass || !c.Expired || !strings.Contains(c.Detail, "revoked") {
		t.Errorf("revoked (card read): %+v", c)
	}
	if c := s.VerifyCertificate(leaf, CertOptions{CRL: crl, RevokedFails: true}); c.Result != Fail || !strings.Contains(c.Detail, "revoked") {
		t.Errorf("revoked (signature): %+v", c)
	}
	// A CRL outside its thisUpdate-nextUpdate window cannot speak for now.
	if c := s.VerifyCertificate(leaf, CertOptions{CRL: crl, Now: time.Now().Add(2 * time.Hour)}); c.Result != Unknown || !strings.Contains(c.Detail, "stale") {
		t.Errorf("stale CRL: %+v", c)
	}
	if c := s.VerifyCertificate(leaf, CertOptions{CRL: crl, Now: time.Now().Add(-time.Hour)}); c.Result != Unknown || !strings.Contains(c.Detail, "future") {
		t.Errorf("future CRL: %+v", c)
	}
}

func TestVerifyKeyUsage(t *testing.T) {
	root, leaf, _ := testCA(t, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour))
	s := &Store{}
	s.AddRoot(root, Anchor{Name: "r"})
	if c := s.VerifyCertificate(leaf, CertOptions{NonRepudiation: true}); c.Result != Fail {
		t.Errorf("missing nonRepudiation accepted: %+v", c)
	}
	if c := s.VerifyCertificate(leaf, CertOptions{}); c.Result != Pass {
		t.Errorf("auth certificate: %+v", c)
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
	root, leaf, _ := testCA(t, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour))
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
	if c := s.VerifyCertificate(leaf, CertOptions{CRL: crl}); c.Result != Unknown || !strings.Contains(c.Detail, "CRL") {
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
	if c := s.CompareCardCA("x509:auth-ca-certificate", root, leaf); c.Result != Unknown {
		t.Errorf("no anchor: %+v", c)
	}
	s.AddRoot(root, Anchor{Name: "test root"})
	if c := s.CompareCardCA("x509:auth-ca-certificate", root, leaf); c.Result != Pass || c.Anchor != "test root" {
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
		if c := s.CompareCardCA("x509:auth-ca-certificate", bad, l); c.Result != Fail || c.Anchor != "test root" {
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
	root, leaf, _ := testCA(t, x509.KeyUsageDigitalSignature, time.Now().Add(time.Hour))
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
	c := s.VerifyCertificate(leaf, CertOptions{Name: "x"})
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
