package jpki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/smallstep/pkcs7"

	"github.com/mynakit/mynakit/trust"
)

// oidTimeStampToken is the unsigned attribute that carries an RFC 3161
// timestamp over a SignerInfo's signature value (RFC 3161 Appendix A).
var oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

// Timestamper asks a time-stamping authority (RFC 3161) for a token over
// the SHA-256 digest of a signature value and returns the DER
// TimeStampToken.
type Timestamper func(digest []byte) ([]byte, error)

// SignCMS makes a detached CMS SignedData over content with SHA-256, a
// signing-time attribute, the signer's certificate and chain (the card's CA
// certificate). signer is normally the card's signing key. When tsa is set,
// the signature value is timestamped and the token added as an unsigned
// attribute, so a verifier can judge the certificate at a trusted time.
func SignCMS(content []byte, signer crypto.Signer, cert *x509.Certificate, tsa Timestamper, chain ...*x509.Certificate) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(cert, signer, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("cms sign: %w", err)
	}
	for _, c := range chain {
		sd.AddCertificate(c)
	}
	if tsa != nil {
		si := &sd.GetSignedData().SignerInfos[0]
		sum := crypto.SHA256.New()
		sum.Write(si.EncryptedDigest)
		token, err := tsa(sum.Sum(nil))
		if err != nil {
			return nil, fmt.Errorf("cms timestamp: %w", err)
		}
		if err := si.SetUnauthenticatedAttributes([]pkcs7.Attribute{{Type: oidTimeStampToken, Value: asn1.RawValue{FullBytes: token}}}); err != nil {
			return nil, fmt.Errorf("cms timestamp: %w", err)
		}
	}
	sd.Detach()
	return sd.Finish()
}

// CMSOptions says how to judge a signature.
type CMSOptions struct {
	// Store holds the JPKI roots the signer's certificate must chain to.
	Store *trust.Store
	// CRL, when set, is checked for the signer's certificate.
	CRL *x509.RevocationList
	// TSARoots are the anchors a timestamp's authority must chain to; a
	// timestamp without them is reported but not trusted.
	TSARoots []*x509.Certificate
	// Now is the current time (zero: time.Now()).
	Now time.Time
}

// CMSResult is what VerifyCMS found.
type CMSResult struct {
	Signer *x509.Certificate
	// SigningTime is what the signer wrote (zero when absent). It is never
	// trusted: a revoked key could backdate a new signature.
	SigningTime time.Time
	// Timestamp is the time of a trusted RFC 3161 timestamp (zero when the
	// signature carries none, or none that verifies).
	Timestamp time.Time
	// JudgedAt is the time the certificate was judged at: Timestamp when
	// trusted, else Now.
	JudgedAt time.Time
	// TimestampNote says why a timestamp the signature carries was not
	// used ("" when it was used, or there is none).
	TimestampNote string
	Checks        []trust.Check
	Verdict       trust.Verdict
}

// VerifyCMS checks a detached CMS signature over content: the signature
// itself, then the signer's certificate against the store — its validity
// and revocation judged at the current time, or at the time of a trusted
// RFC 3161 timestamp over the signature. The time the signer wrote is
// never used, and the certificates inside the CMS are never trusted by
// themselves. A CRL outside its thisUpdate-nextUpdate window makes the
// result unknown.
func VerifyCMS(content, sig []byte, opts CMSOptions) (*CMSResult, error) {
	p7, err := pkcs7.Parse(sig)
	if err != nil {
		return nil, fmt.Errorf("not a CMS signature: %w", err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil || len(p7.Signers) != 1 {
		return nil, errors.New("CMS signature must have exactly one signer")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := &CMSResult{Signer: signer, JudgedAt: now}
	var st time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &st); err == nil {
		res.SigningTime = st
	}
	p7.Content = content
	c := trust.Check{Name: trust.CheckCMSSignature}
	if err := p7.Verify(); err != nil {
		c.Result, c.Detail = trust.Fail, err.Error()
	} else {
		c.Result, c.Detail = trust.Pass, "SignedData signature verifies over the file"
	}
	res.Checks = append(res.Checks, c)
	if ts, ok := timestampCheck(p7, opts, now); ok {
		if ts.check.Result == trust.Pass {
			res.Checks = append(res.Checks, ts.check)
			res.Timestamp, res.JudgedAt = ts.time, ts.time
		} else {
			res.TimestampNote = ts.check.Detail
		}
	}
	res.Checks = append(res.Checks, opts.Store.VerifyCertificate(signer, trust.CertOptions{
		Name: trust.CheckSignCert, At: res.JudgedAt, Now: now, NonRepudiation: true, CRL: opts.CRL, RevokedFails: true,
	}))
	res.Verdict = trust.Decide(res.Checks)
	return res, nil
}

type tsResult struct {
	check trust.Check
	time  time.Time
}

// timestampCheck finds and judges an RFC 3161 timestamp token in the
// signer's unsigned attributes. ok is false when there is none. Only a
// token that verifies, covers this signature and chains to TSARoots
// passes; any other is ignored with the reason (the signature is then
// judged at the current time, which is never more lenient).
func timestampCheck(p7 *pkcs7.PKCS7, opts CMSOptions, now time.Time) (tsResult, bool) {
	si := p7.Signers[0]
	var token []byte
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimeStampToken) {
			token = a.Value.Bytes
		}
	}
	if token == nil {
		return tsResult{}, false
	}
	ch := trust.Check{Name: trust.CheckCMSTimestamp}
	ignored := "; the signature is judged at the current time instead"
	ts, err := timestamp.Parse(token)
	if err != nil {
		ch.Result, ch.Detail = trust.Unknown, "timestamp does not parse or verify: "+err.Error()+ignored
		return tsResult{check: ch}, true
	}
	h := ts.HashAlgorithm.New()
	h.Write(si.EncryptedDigest)
	if !bytes.Equal(h.Sum(nil), ts.HashedMessage) {
		ch.Result, ch.Detail = trust.Fail, "the timestamp is over another signature"
		return tsResult{check: ch}, true
	}
	tp, err := pkcs7.Parse(token)
	if err != nil || tp.GetOnlySigner() == nil {
		ch.Result, ch.Detail = trust.Unknown, "timestamp without its authority's certificate"+ignored
		return tsResult{check: ch}, true
	}
	tsa := tp.GetOnlySigner()
	pool := x509.NewCertPool()
	for _, r := range opts.TSARoots {
		pool.AddCert(r)
	}
	inter := x509.NewCertPool()
	for _, c := range tp.Certificates {
		inter.AddCert(c)
	}
	if len(opts.TSARoots) == 0 {
		ch.Result, ch.Detail = trust.Unknown, "no trusted time-stamping authority is configured"+ignored
		return tsResult{check: ch}, true
	}
	if _, err := tsa.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: ts.Time, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		ch.Result, ch.Detail = trust.Unknown, "the timestamp's authority is not trusted: "+err.Error()+ignored
		return tsResult{check: ch}, true
	}
	if ts.Time.After(now.Add(time.Minute)) {
		ch.Result, ch.Detail = trust.Fail, "the timestamp is in the future"
		return tsResult{check: ch}, true
	}
	ch.Result = trust.Pass
	ch.Detail = fmt.Sprintf("signature timestamped at %s by %s", ts.Time.UTC().Format(time.RFC3339), tsa.Subject.CommonName)
	return tsResult{check: ch, time: ts.Time}, true
}
