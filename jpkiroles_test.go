package mynakit_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

// Finding 4 of issue 14: a signing certificate served from the
// authentication certificate's EF chains to a J-LIS root — the signing
// one — and must fail: the signing root verifies only signing
// certificates.
func TestSigningCertificateInTheAuthEFFails(t *testing.T) {
	img := simtest.Image(t)
	simtest.SetEF(t, img, myna.JPKI, myna.JPKIAuthCert, append([]byte(nil), simtest.EF(t, img, myna.JPKI, myna.JPKISignCert)...))
	r := read(t, img, mynakit.ReadOptions{})
	c := mustCheck(t, r, trust.CheckAuthCert, trust.Fail)
	if !strings.Contains(c.Detail, "signing") {
		t.Errorf("detail %q", c.Detail)
	}
	if r.Verdict == trust.Genuine || r.Verdict == trust.GenuineExpired {
		t.Fatalf("verdict %s", r.Verdict)
	}
}

// An authentication root stored as the card's signing CA certificate does
// not pass x509:sign-ca-certificate in a thorough read.
func TestAuthRootInTheSignCAEFFails(t *testing.T) {
	img := simtest.Image(t)
	simtest.SetEF(t, img, myna.JPKI, myna.JPKISignCACert, append([]byte(nil), simtest.EF(t, img, myna.JPKI, myna.JPKIAuthCACert)...))
	r := read(t, img, mynakit.ReadOptions{Thorough: true})
	mustCheck(t, r, trust.CheckSignCACert, trust.Fail)
	mustCheck(t, r, trust.CheckAuthCACert, trust.Pass)
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("verdict %s", r.Verdict)
	}
}

// Finding 8 of issue 14: the status says what was checked. A self-signed
// certificate in the authentication EF is unknown, and nothing — the JPKI
// part's status, its JSON, the key-proof check — calls it valid.
func TestSelfSignedAuthCertificateIsNotCalledValid(t *testing.T) {
	img := simtest.Image(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(99), Subject: pkix.Name{CommonName: "self-signed"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	simtest.SetEF(t, img, myna.JPKI, myna.JPKIAuthCert, simtest.Filler(der))
	r := read(t, img, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartJPKI}})
	mustCheck(t, r, trust.CheckAuthCert, trust.Unknown)
	if r.Verdict != trust.Undecided {
		t.Fatalf("verdict %s", r.Verdict)
	}
	if s := r.JPKI.Status(); !strings.Contains(s, "not verified") {
		t.Errorf("status %q", s)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "certificate valid") {
		t.Errorf("the JSON calls the certificate valid:\n%s", b)
	}
	if c := mustCheck(t, r, trust.CheckPresenceJPKI, trust.Unknown); strings.Contains(c.Detail, "certificate valid") {
		t.Errorf("presence detail %q", c.Detail)
	}
	// A genuine certificate is still called valid.
	if r := read(t, simtest.Image(t), mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartJPKI}}); r.JPKI.Status() != "certificate valid, key not proven" {
		t.Errorf("genuine certificate: %q", r.JPKI.Status())
	}
}
