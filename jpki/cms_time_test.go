package jpki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/mynakit/mynakit/trust"
)

// revokedLater is a CRL, in force at now, that revokes h.leaf at revokedAt.
func revokedLater(t *testing.T, h *hierarchy, revokedAt, thisUpdate, nextUpdate time.Time) *x509.RevocationList {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(7), ThisUpdate: thisUpdate, NextUpdate: nextUpdate,
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: h.leaf.SerialNumber, RevocationTime: revokedAt}},
	}, h.root, h.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

// A signature's claimed signing time is never the time the certificate is
// judged at: a key revoked since can always claim an older time. Judged
// now, a signature whose key was revoked after the claimed time fails.
func TestCMSJudgedNowNotAtTheClaimedTime(t *testing.T) {
	h := newHierarchy(t)
	content := []byte("backdated\n")
	sig, err := SignCMS(content, h.key, h.leaf, nil, h.root)
	if err != nil {
		t.Fatal(err)
	}
	signed := time.Now()
	now := signed.Add(2 * time.Hour)
	crl := revokedLater(t, h, signed.Add(time.Hour), signed.Add(90*time.Minute), signed.Add(3*time.Hour))
	res, err := VerifyCMS(content, sig, CMSOptions{Store: h.store(), CRL: crl, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != trust.NotGenuine || !res.JudgedAt.Equal(now) || res.SigningTime.After(signed.Add(time.Minute)) {
		t.Fatalf("verdict %s judged at %s: %+v", res.Verdict, res.JudgedAt, res.Checks)
	}
	c := res.Checks[len(res.Checks)-1]
	if c.Name != trust.CheckSignCert || c.Result != trust.Fail || !strings.Contains(c.Detail, "revoked") {
		t.Fatalf("certificate check %+v", c)
	}
}

// A CRL that is stale or not yet in force cannot clear a certificate.
func TestCMSStaleCRLIsUnknown(t *testing.T) {
	h := newHierarchy(t)
	sig, err := SignCMS([]byte("x"), h.key, h.leaf, nil, h.root)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, _ := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-48 * time.Hour), NextUpdate: now.Add(-24 * time.Hour)}, h.root, h.rootKey)
	stale, _ := x509.ParseRevocationList(der)
	res, _ := VerifyCMS([]byte("x"), sig, CMSOptions{Store: h.store(), CRL: stale})
	if res.Verdict != trust.Undecided || !strings.Contains(res.Checks[len(res.Checks)-1].Detail, "stale") {
		t.Fatalf("stale CRL: %s %+v", res.Verdict, res.Checks)
	}
}

// tsa is a time-stamping authority of the test's own.
type tsa struct {
	root, cert *x509.Certificate
	key        *rsa.PrivateKey
	at         time.Time // the time it stamps
}

func newTSA(t *testing.T, at time.Time) *tsa {
	t.Helper()
	rootKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	rt := &x509.Certificate{SerialNumber: big.NewInt(10), Subject: pkix.Name{CommonName: "unit TSA root"}, NotBefore: at.Add(-24 * time.Hour), NotAfter: at.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, rt, rt, &rootKey.PublicKey, rootKey)
	root, _ := x509.ParseCertificate(der)
	ct := &x509.Certificate{SerialNumber: big.NewInt(11), Subject: pkix.Name{CommonName: "unit TSA"}, NotBefore: at.Add(-time.Hour), NotAfter: at.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
	der, err := x509.CreateCertificate(rand.Reader, ct, root, &key.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &tsa{root: root, cert: cert, key: key, at: at}
}

func (a *tsa) stamp(digest []byte) ([]byte, error) {
	ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Time: a.at, Policy: []int{1, 2, 3}, AddTSACertificate: true}
	resp, err := ts.CreateResponseWithOpts(a.cert, a.key, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	parsed, err := timestamp.ParseResponse(resp)
	if err != nil {
		return nil, err
	}
	return parsed.RawToken, nil
}

// A trusted RFC 3161 timestamp sets the time the certificate is judged at:
// signed before the revocation, the signature stands; without trusting the
// authority, it is judged now and fails.
func TestCMSTrustedTimestampSetsTheTime(t *testing.T) {
	h := newHierarchy(t)
	signed := time.Now()
	a := newTSA(t, signed)
	content := []byte("timestamped\n")
	sig, err := SignCMS(content, h.key, h.leaf, a.stamp, h.root)
	if err != nil {
		t.Fatal(err)
	}
	now := signed.Add(2 * time.Hour)
	crl := revokedLater(t, h, signed.Add(time.Hour), signed.Add(90*time.Minute), signed.Add(3*time.Hour))

	res, err := VerifyCMS(content, sig, CMSOptions{Store: h.store(), CRL: crl, Now: now, TSARoots: []*x509.Certificate{a.root}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != trust.Genuine || !res.Timestamp.Equal(a.at.Truncate(time.Second)) && !res.Timestamp.Equal(a.at) || !res.JudgedAt.Equal(res.Timestamp) {
		t.Fatalf("with the TSA trusted: %s at %s (ts %s): %+v", res.Verdict, res.JudgedAt, res.Timestamp, res.Checks)
	}
	if c, _ := findNamed(res.Checks, trust.CheckCMSTimestamp); c.Result != trust.Pass {
		t.Fatalf("timestamp check %+v", c)
	}

	res, _ = VerifyCMS(content, sig, CMSOptions{Store: h.store(), CRL: crl, Now: now})
	if res.Verdict != trust.NotGenuine || res.TimestampNote == "" || !res.Timestamp.IsZero() {
		t.Fatalf("with no TSA trusted: %s, note %q", res.Verdict, res.TimestampNote)
	}
	other := newTSA(t, signed)
	res, _ = VerifyCMS(content, sig, CMSOptions{Store: h.store(), CRL: crl, Now: now, TSARoots: []*x509.Certificate{other.root}})
	if res.Verdict != trust.NotGenuine || !strings.Contains(res.TimestampNote, "not trusted") {
		t.Fatalf("with another TSA trusted: %s, note %q", res.Verdict, res.TimestampNote)
	}
}

func findNamed(checks []trust.Check, n trust.CheckName) (trust.Check, bool) {
	for _, c := range checks {
		if c.Name == n {
			return c, true
		}
	}
	return trust.Check{}, false
}
