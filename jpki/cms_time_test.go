package jpki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/smallstep/pkcs7"

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
	return newTSAWith(t, at, at.Add(12*time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping})
}

// newTSAWith makes an authority whose certificate is valid from an hour
// before at to notAfter, with the extended key usages given.
func newTSAWith(t *testing.T, at, notAfter time.Time, eku []x509.ExtKeyUsage) *tsa {
	t.Helper()
	rootKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	rt := &x509.Certificate{SerialNumber: big.NewInt(10), Subject: pkix.Name{CommonName: "unit TSA root"}, NotBefore: at.Add(-24 * time.Hour), NotAfter: at.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, rt, rt, &rootKey.PublicKey, rootKey)
	root, _ := x509.ParseCertificate(der)
	ct := &x509.Certificate{SerialNumber: big.NewInt(11), Subject: pkix.Name{CommonName: "unit TSA"}, NotBefore: at.Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku}
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

// Finding 10 of issue 14: an authority certificate without the
// timeStamping extended key usage does not set the time, and neither does
// one whose certificate has expired by now (its chain is judged now, not
// at the time the token claims).
func TestCMSTimestampAuthorityJudgedStrictly(t *testing.T) {
	h := newHierarchy(t)
	signed := time.Now()
	now := signed.Add(2 * time.Hour)
	crl := revokedLater(t, h, signed.Add(time.Hour), signed.Add(90*time.Minute), signed.Add(3*time.Hour))
	content := []byte("timestamped\n")
	for _, tc := range []struct {
		name string
		a    *tsa
		note string
	}{
		{"no extended key usage", newTSAWith(t, signed, signed.Add(12*time.Hour), nil), "timeStamping"},
		{"another extended key usage", newTSAWith(t, signed, signed.Add(12*time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}), "timeStamping"},
		{"expired since it stamped", newTSAWith(t, signed, signed.Add(time.Hour), []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}), "not trusted"},
	} {
		sig, err := SignCMS(content, h.key, h.leaf, tc.a.stamp, h.root)
		if err != nil {
			t.Fatal(err)
		}
		res, err := VerifyCMS(content, sig, CMSOptions{Store: h.store(), CRL: crl, Now: now, TSARoots: []*x509.Certificate{tc.a.root}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != trust.NotGenuine || !res.Timestamp.IsZero() || !strings.Contains(res.TimestampNote, tc.note) {
			t.Errorf("%s: %s, timestamp %s, note %q", tc.name, res.Verdict, res.Timestamp, res.TimestampNote)
		}
	}
}

// resign rewrites the signer's signed attributes with edit and signs them
// again with key (nil: keeps the old signature), as a signer with its own
// software could.
func resign(t *testing.T, sig []byte, key *rsa.PrivateKey, h crypto.Hash, edit func(p7 *pkcs7.PKCS7)) []byte {
	t.Helper()
	p7, err := pkcs7.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	edit(p7)
	si := &p7.Signers[0]
	if key != nil {
		der, err := asn1.MarshalWithParams(si.AuthenticatedAttributes, "set")
		if err != nil {
			t.Fatal(err)
		}
		sum := h.New()
		sum.Write(der)
		if si.EncryptedDigest, err = rsa.SignPKCS1v15(nil, key, h, sum.Sum(nil)); err != nil {
			t.Fatal(err)
		}
	}
	// Re-encode the SignedData around the new SignerInfo.
	var outer struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
	}
	if _, err := asn1.Unmarshal(sig, &outer); err != nil {
		t.Fatal(err)
	}
	var inner struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      asn1.RawValue
		Certificates     asn1.RawValue `asn1:"optional,tag:0"`
		SignerInfos      asn1.RawValue
	}
	if _, err := asn1.Unmarshal(outer.Content.Bytes, &inner); err != nil {
		t.Fatal(err)
	}
	siDER, err := asn1.MarshalWithParams(p7.Signers, "set")
	if err != nil {
		t.Fatal(err)
	}
	inner.SignerInfos = asn1.RawValue{FullBytes: siDER}
	innerDER, err := asn1.Marshal(inner)
	if err != nil {
		t.Fatal(err)
	}
	outer.Content = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: innerDER}
	out, err := asn1.Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Finding 6 of issue 14: the signingTime the signer wrote is never what a
// signature is judged by. A signature whose claimed signingTime (2001)
// lies long before its certificate was issued is judged now, and stands.
func TestCMSClaimedSigningTimeIsNotJudged(t *testing.T) {
	h := newHierarchy(t)
	content := []byte("signed, claiming 2001\n")
	sig, err := SignCMS(content, h.key, h.leaf, nil, h.root)
	if err != nil {
		t.Fatal(err)
	}
	claimed := time.Date(2001, 4, 1, 9, 0, 0, 0, time.UTC)
	claim := func(at time.Time) func(p7 *pkcs7.PKCS7) {
		return func(p7 *pkcs7.PKCS7) {
			for i, a := range p7.Signers[0].AuthenticatedAttributes {
				if a.Type.Equal(pkcs7.OIDAttributeSigningTime) {
					v, _ := asn1.Marshal(at)
					set, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: v})
					p7.Signers[0].AuthenticatedAttributes[i].Value = asn1.RawValue{FullBytes: set}
				}
			}
		}
	}
	unsigned := resign(t, sig, nil, crypto.SHA256, claim(claimed))
	sig = resign(t, sig, h.key, crypto.SHA256, claim(claimed))
	now := time.Now()
	res, err := VerifyCMS(content, sig, CMSOptions{Store: h.store(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != trust.Genuine || !res.SigningTime.Equal(claimed) || !res.JudgedAt.Equal(now) {
		t.Fatalf("claimed 2001: %s, signing time %s, judged at %s: %+v", res.Verdict, res.SigningTime, res.JudgedAt, res.Checks)
	}
	// The same file changed is still caught.
	if res, _ := VerifyCMS([]byte("other"), sig, CMSOptions{Store: h.store(), Now: now}); res.Verdict != trust.NotGenuine {
		t.Fatalf("changed file: %s", res.Verdict)
	}
	// A signed attribute changed without signing again fails.
	if res, _ := VerifyCMS(content, unsigned, CMSOptions{Store: h.store(), Now: now}); res.Verdict != trust.NotGenuine || res.Checks[0].Result != trust.Fail {
		t.Fatalf("signing time changed after signing: %s %+v", res.Verdict, res.Checks)
	}
}

// Finding 7 of issue 14: a SHA-1 signature is not evidence. It is unknown,
// unless AllowSHA1, and then it stands with a warning.
func TestCMSSHA1IsUnknown(t *testing.T) {
	h := newHierarchy(t)
	content := []byte("signed with SHA-1\n")
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA1)
	if err := sd.AddSigner(h.leaf, h.key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	sig, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	res, err := VerifyCMS(content, sig, CMSOptions{Store: h.store()})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := findNamed(res.Checks, trust.CheckCMSSignature)
	if res.Verdict != trust.Undecided || c.Result != trust.Unknown || !strings.Contains(c.Detail, "SHA-1 is no longer evidence") || len(res.Warnings) != 0 {
		t.Fatalf("SHA-1: %s %+v", res.Verdict, res.Checks)
	}
	res, _ = VerifyCMS(content, sig, CMSOptions{Store: h.store(), AllowSHA1: true})
	if res.Verdict != trust.Genuine || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "SHA-1") {
		t.Fatalf("SHA-1 allowed: %s %v %+v", res.Verdict, res.Warnings, res.Checks)
	}
	if res, _ := VerifyCMS([]byte("other"), sig, CMSOptions{Store: h.store(), AllowSHA1: true}); res.Verdict != trust.NotGenuine {
		t.Fatalf("SHA-1 allowed, changed file: %s", res.Verdict)
	}
	// SHA-1 named only in the signature algorithm is SHA-1 too.
	sig, _ = SignCMS(content, h.key, h.leaf, nil, h.root)
	named := resign(t, sig, nil, crypto.SHA256, func(p7 *pkcs7.PKCS7) {
		p7.Signers[0].DigestEncryptionAlgorithm.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	})
	if res, _ := VerifyCMS(content, named, CMSOptions{Store: h.store()}); res.Verdict != trust.Undecided || !strings.Contains(res.Checks[0].Detail, "SHA-1") {
		t.Fatalf("sha1WithRSAEncryption over a SHA-256 digest: %s %+v", res.Verdict, res.Checks)
	}
	// SHA-256 carries no warning.
	if res, _ := VerifyCMS(content, sig, CMSOptions{Store: h.store(), AllowSHA1: true}); res.Verdict != trust.Genuine || len(res.Warnings) != 0 {
		t.Fatalf("SHA-256: %s %v", res.Verdict, res.Warnings)
	}
}
