package pdfsig

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/trust"
)

// testTSA is a time-stamping authority that stamps the time it is told.
func testTSA(t *testing.T, at *time.Time) (jpki.Timestamper, *x509.Certificate) {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "pdfsig test TSA"},
		NotBefore: now.AddDate(0, 0, -10), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return func(digest []byte) ([]byte, error) {
		ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Time: *at, Policy: []int{1, 2, 3}, AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(cert, key, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		r, err := timestamp.ParseResponse(resp)
		if err != nil {
			return nil, err
		}
		return r.RawToken, nil
	}, cert
}

// B-T: a certificate expired now is judged at a trusted timestamp's time;
// a timestamp after the expiry, or from an untrusted authority, does not
// help; the claimed /M never does.
func TestPDFTimestampedExpired(t *testing.T) {
	p := testPKI(t)
	src := readCorpus(t, "classic.pdf")
	at := p.expired.NotAfter.Add(-time.Hour)
	tsa, tsaCert := testTSA(t, &at)
	signed := signWith(t, src, p.expired, SignOptions{Timestamper: tsa, Time: at})
	opts := VerifyOptions{Store: p.store(), TSARoots: []*x509.Certificate{tsaCert}}
	res, err := Verify(signed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != trust.Genuine || !res.Signatures[0].Timestamp.Equal(at.Truncate(time.Second)) {
		t.Fatalf("timestamped before expiry: %s %v %+v", res.Verdict, res.Signatures[0].Timestamp, res.Checks)
	}
	// Without the authority trusted: judged now, expired, fails.
	opts.TSARoots = nil
	if res, _ := Verify(signed, opts); res.Verdict != trust.NotGenuine || res.Signatures[0].TimestampNote == "" {
		t.Fatalf("untrusted TSA: %s %+v", res.Verdict, res.Checks)
	}
	// Stamped after the expiry: fails although the authority is trusted.
	at = p.expired.NotAfter.Add(time.Hour)
	late := signWith(t, src, p.expired, SignOptions{Timestamper: tsa})
	opts.TSARoots = []*x509.Certificate{tsaCert}
	if res, _ := Verify(late, opts); res.Verdict != trust.NotGenuine || !failed(res, trust.CheckSignCert, "after the expiry") {
		t.Fatalf("late timestamp: %s %+v", res.Verdict, res.Checks)
	}
}
