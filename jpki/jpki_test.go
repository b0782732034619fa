package jpki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

// marshalSAN encodes holder attributes as the JPKI signing certificate does.
func marshalSAN(t testing.TB, vals map[string]string) []byte {
	t.Helper()
	type otherName struct {
		TypeID asn1.ObjectIdentifier
		Value  asn1.RawValue
	}
	var names []asn1.RawValue
	for _, oid := range []asn1.ObjectIdentifier{OIDName, OIDBirthDate, OIDSex, OIDAddress, OIDNameSubstitution, OIDAddressSubstitution} {
		v, ok := vals[oid.String()]
		if !ok {
			continue
		}
		str, err := asn1.MarshalWithParams(v, "utf8")
		if err != nil {
			t.Fatal(err)
		}
		on, err := asn1.Marshal(otherName{TypeID: oid, Value: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: str}})
		if err != nil {
			t.Fatal(err)
		}
		var seq asn1.RawValue
		if _, err := asn1.Unmarshal(on, &seq); err != nil {
			t.Fatal(err)
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: seq.Bytes})
	}
	der, err := asn1.Marshal(names)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

var testVals = map[string]string{
	OIDName.String():                "黒桐　幹也",
	OIDNameSubstitution.String():    "00000",
	OIDSex.String():                 "1",
	OIDBirthDate.String():           "319800217",
	OIDAddress.String():             "東京都清瀬市観布子南１２－７－２０２",
	OIDAddressSubstitution.String(): "000000000000000000",
}

func TestParseSubjectAltName(t *testing.T) {
	a, err := ParseSubjectAltName(marshalSAN(t, testVals))
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "黒桐　幹也" || a.Sex != "male" || a.Address != "東京都清瀬市観布子南１２－７－２０２" ||
		a.BirthEra != myna.Showa || a.BirthDate.String() != "1980-02-17" || a.NameSubstitution != "00000" {
		t.Fatalf("parsed %+v", a)
	}
	if _, err := ParseSubjectAltName(marshalSAN(t, map[string]string{OIDBirthDate.String(): "X19800217"})); err == nil {
		t.Error("bad birth date accepted")
	}
}

func FuzzParseSubjectAltName(f *testing.F) {
	f.Add(marshalSAN(f, testVals))
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseSubjectAltName(b)
		if err == nil && a == nil {
			t.Fatal("nil attributes without error")
		}
	})
}

func TestParseToken(t *testing.T) {
	label := append([]byte("JPKIAPICCTOKEN2"), bytes.Repeat([]byte{' '}, 17)...)
	if tok, l := ParseToken(label); tok != TokenCard || l != "JPKIAPICCTOKEN2" {
		t.Errorf("card label: %v %q", tok, l)
	}
	if tok, _ := ParseToken([]byte("JPKIAPGPSETOKEN\x00\x00")); tok != TokenAndroid {
		t.Errorf("android label: %v", tok)
	}
	if tok, _ := ParseToken([]byte("JPKIAPICCTOKEN")); tok != TokenJuki {
		t.Errorf("juki label: %v", tok)
	}
}

func TestDigestInfo(t *testing.T) {
	d := sha256.Sum256([]byte("abc"))
	di, err := DigestInfo(crypto.SHA256, d[:])
	if err != nil || len(di) != 51 {
		t.Fatalf("%d bytes, %v", len(di), err)
	}
	if _, err := DigestInfo(crypto.SHA256, d[:20]); err == nil {
		t.Error("wrong-size digest accepted")
	}
	if _, err := DigestInfo(crypto.MD5, make([]byte, 16)); err == nil {
		t.Error("MD5 accepted")
	}
}

// hierarchy is a software stand-in for the card: a root and a signing
// certificate with the JPKI holder attributes.
type hierarchy struct {
	root, leaf *x509.Certificate
	key        *rsa.PrivateKey
	rootKey    *rsa.PrivateKey
}

func newHierarchy(t testing.TB) *hierarchy {
	t.Helper()
	h := &hierarchy{}
	h.rootKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	h.key, _ = rsa.GenerateKey(rand.Reader, 2048)
	name := pkix.Name{Country: []string{"JP"}, Organization: []string{"JPKI-UNIT"}, OrganizationalUnit: []string{"JPKI for digital signature"}}
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: name, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, rt, rt, &h.rootKey.PublicKey, h.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	h.root, _ = x509.ParseCertificate(der)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{Country: []string{"JP"}, CommonName: "holder"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:        x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtraExtensions: []pkix.Extension{{Id: oidSubjectAltName, Value: marshalSAN(t, testVals)}}}
	der, err = x509.CreateCertificate(rand.Reader, lt, h.root, &h.key.PublicKey, h.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	h.leaf, _ = x509.ParseCertificate(der)
	return h
}

func (h *hierarchy) store() *trust.Store {
	s := &trust.Store{}
	s.AddRoot(h.root, trust.Anchor{Name: "unit-test root"})
	return s
}

func TestParseAttributesFromCertificate(t *testing.T) {
	h := newHierarchy(t)
	a, err := ParseAttributes(h.leaf)
	if err != nil || a.Name != "黒桐　幹也" {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := ParseAttributes(h.root); err != ErrNoAttributes {
		t.Errorf("root: %v", err)
	}
}

func TestCMSRoundTrip(t *testing.T) {
	h := newHierarchy(t)
	content := []byte("契約書 contract v1\n")
	sig, err := SignCMS(content, h.key, h.leaf, nil, h.root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := VerifyCMS(content, sig, CMSOptions{Store: h.store()})
	if err != nil || res.Verdict != trust.Genuine || res.SigningTime.IsZero() {
		t.Fatalf("good signature: %+v %v", res, err)
	}
	changed := append([]byte(nil), content...)
	changed[0] ^= 1
	if res, err := VerifyCMS(changed, sig, CMSOptions{Store: h.store()}); err != nil || res.Verdict != trust.NotGenuine || res.Checks[0].Result != trust.Fail {
		t.Fatalf("changed content: %+v %v", res, err)
	}
	if res, _ := VerifyCMS(content, sig, CMSOptions{Store: trust.Embedded()}); res.Verdict != trust.Undecided {
		t.Fatalf("unknown anchor: %v", res.Verdict)
	}
}

// TestCMSOpenSSLInterop checks both directions against the openssl binary.
func TestCMSOpenSSLInterop(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl not installed")
		}
		t.Skip("openssl not installed")
	}
	h := newHierarchy(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	content := []byte("signed by mynakit and openssl\n")
	file := write("doc.txt", content)
	root := write("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.root.Raw}))
	cert := write("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.leaf.Raw}))
	keyDER, _ := x509.MarshalPKCS8PrivateKey(h.key)
	key := write("key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))

	// Ours, verified by openssl.
	sig, err := SignCMS(content, h.key, h.leaf, nil, h.root)
	if err != nil {
		t.Fatal(err)
	}
	ours := write("ours.p7s", sig)
	verify := func(content string) error {
		out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", ours, "-content", content, "-CAfile", root, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
		if err != nil {
			t.Logf("openssl: %s", out)
		}
		return err
	}
	if err := verify(file); err != nil {
		t.Fatalf("openssl rejects our signature: %v", err)
	}
	if err := verify(write("changed.txt", []byte("signed by mynakit and openssl!\n"))); err == nil {
		t.Fatal("openssl accepted our signature over a changed file")
	}

	// openssl's, verified by us.
	theirs := filepath.Join(dir, "theirs.p7s")
	out, err := exec.Command("openssl", "cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER", "-in", file, "-signer", cert, "-inkey", key, "-certfile", root, "-out", theirs).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -sign: %v\n%s", err, out)
	}
	tsig, _ := os.ReadFile(theirs)
	res, err := VerifyCMS(content, tsig, CMSOptions{Store: h.store()})
	if err != nil || res.Verdict != trust.Genuine {
		t.Fatalf("openssl's signature: %+v %v", res, err)
	}
	if res, _ := VerifyCMS([]byte("other"), tsig, CMSOptions{Store: h.store()}); res.Verdict != trust.NotGenuine {
		t.Fatal("openssl's signature accepted over other content")
	}
}
