package jpki

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
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
	// AllowSHA1 accepts SHA-1 digests and signatures (and timestamps over
	// SHA-1), with a warning in the result. Without it a SHA-1 signature
	// is unknown: SHA-1 is no longer evidence (chosen-prefix collisions
	// are practical), so a SHA-1 signature may be over another document.
	AllowSHA1 bool
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
	// Warnings are what a verdict that stands must be shown with (a SHA-1
	// signature accepted under AllowSHA1).
	Warnings []string
	Checks   []trust.Check
	Verdict  trust.Verdict
}

var (
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA1WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
)

func digestHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// signatureHash is the digest an RSA signature algorithm names (0 for
// rsaEncryption, which takes the SignerInfo's digest algorithm).
func signatureHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidRSAEncryption):
		return 0, true
	case oid.Equal(oidSHA1WithRSA):
		return crypto.SHA1, true
	case oid.Equal(oidSHA256WithRSA):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384WithRSA):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512WithRSA):
		return crypto.SHA512, true
	}
	return 0, false
}

// SHA1Warning is the warning a SHA-1 signature accepted with AllowSHA1
// carries.
const SHA1Warning = "SHA-1 signature accepted on request (--allow-sha1): SHA-1 is no longer evidence, and this signature may be over another document"

// signatureCheck verifies the one SignerInfo's signature over content
// itself (RFC 5652 §5.4, §5.6): the messageDigest attribute against the
// content, then the RSA PKCS#1 v1.5 signature over the DER of the signed
// attributes (or over the content when there are none) with the signer
// certificate's key, hashed with the SignerInfo's digest algorithm. SHA-1
// named as the digest or in the signature algorithm makes a signature that
// verifies unknown (or, with allowSHA1, passed with a warning). Nothing about time is judged here: the signingTime
// attribute is what the signer wrote, and the certificate is judged later
// at the current or a trusted timestamp's time. (smallstep/pkcs7's Verify
// rejects a signature whose claimed signingTime lies outside the
// certificate's validity, which would let a signer repudiate their own
// signature by writing a false time; it is therefore not used.)
func signatureCheck(p7 *pkcs7.PKCS7, signer *x509.Certificate, content []byte, allowSHA1 bool) (trust.Check, string) {
	c := trust.Check{Name: trust.CheckCMSSignature}
	fail := func(r trust.Result, d string) (trust.Check, string) {
		c.Result, c.Detail = r, d
		return c, ""
	}
	si := p7.Signers[0]
	h, ok := digestHash(si.DigestAlgorithm.Algorithm)
	if !ok {
		return fail(trust.Unknown, fmt.Sprintf("digest algorithm %v is not one mynakit verifies (SHA-256, SHA-384, SHA-512)", si.DigestAlgorithm.Algorithm))
	}
	sh, ok := signatureHash(si.DigestEncryptionAlgorithm.Algorithm)
	if !ok {
		return fail(trust.Unknown, fmt.Sprintf("signature algorithm %v is not one mynakit verifies (RSA PKCS#1 v1.5)", si.DigestEncryptionAlgorithm.Algorithm))
	}
	sha1 := h == crypto.SHA1 || sh == crypto.SHA1
	if sh != 0 && sh != h && !sha1 {
		return fail(trust.Fail, "the signature algorithm names another digest than the SignerInfo's digest algorithm")
	}
	pub, ok := signer.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fail(trust.Unknown, "the signer's key is not RSA")
	}
	signed := content
	if len(si.AuthenticatedAttributes) > 0 {
		n := 0
		for _, a := range si.AuthenticatedAttributes {
			if a.Type.Equal(pkcs7.OIDAttributeMessageDigest) {
				n++
			}
		}
		var digest []byte
		if n != 1 || p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeMessageDigest, &digest) != nil {
			return fail(trust.Fail, "the signed attributes do not hold exactly one message digest")
		}
		sum := h.New()
		sum.Write(content)
		if !bytes.Equal(sum.Sum(nil), digest) {
			return fail(trust.Fail, "the file's digest differs from the message digest the signer signed: the file was changed, or the signature is over another file")
		}
		der, err := asn1.MarshalWithParams(si.AuthenticatedAttributes, "set")
		if err != nil {
			return fail(trust.Fail, "the signed attributes do not encode: "+err.Error())
		}
		signed = der
	}
	sum := h.New()
	sum.Write(signed)
	if err := rsa.VerifyPKCS1v15(pub, h, sum.Sum(nil), si.EncryptedDigest); err != nil {
		return fail(trust.Fail, "the signature does not verify with the signer certificate's key")
	}
	if sha1 {
		if !allowSHA1 {
			return fail(trust.Unknown, "SHA-1 is no longer evidence: the signature verifies, but over a SHA-1 digest, which a forger can make collide (--allow-sha1 accepts it with a warning)")
		}
		c.Result, c.Detail = trust.Pass, "SignedData signature verifies over the file, with SHA-1 — WARNING: "+SHA1Warning
		return c, SHA1Warning
	}
	c.Result, c.Detail = trust.Pass, "SignedData signature verifies over the file ("+h.String()+")"
	return c, ""
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
	c, warn := signatureCheck(p7, signer, content, opts.AllowSHA1)
	if warn != "" {
		res.Warnings = append(res.Warnings, warn)
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
// signer's unsigned attributes. ok is false when there is none.
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
	ch, at := CheckTimestampToken(token, si.EncryptedDigest, opts.TSARoots, opts.AllowSHA1, now)
	return tsResult{check: ch, time: at}, true
}

// CheckTimestampToken judges an RFC 3161 timestamp token over a signature
// value (a CMS signer's signature, or a PDF signature's): it must parse and
// verify, cover exactly sigValue, be made by an authority whose
// certificate carries the timeStamping extended key usage and chains to
// roots now (never at the time the token claims: a key compromised since
// could stamp any time), not be over SHA-1 unless allowSHA1, and not be in
// the future. It passes with the token's time; otherwise the check says
// why it is ignored (Unknown: the signature is then judged at the current
// time, which is never more lenient) or fails (a token over another
// signature, or from the future).
func CheckTimestampToken(token, sigValue []byte, roots []*x509.Certificate, allowSHA1 bool, now time.Time) (trust.Check, time.Time) {
	ch := trust.Check{Name: trust.CheckCMSTimestamp}
	ignored := "; the signature is judged at the current time instead"
	unknown := func(why string) (trust.Check, time.Time) {
		ch.Result, ch.Detail = trust.Unknown, why+ignored
		return ch, time.Time{}
	}
	ts, err := timestamp.Parse(token)
	if err != nil {
		return unknown("timestamp does not parse or verify: " + err.Error())
	}
	h := ts.HashAlgorithm.New()
	h.Write(sigValue)
	if !bytes.Equal(h.Sum(nil), ts.HashedMessage) {
		ch.Result, ch.Detail = trust.Fail, "the timestamp is over another signature"
		return ch, time.Time{}
	}
	if len(roots) == 0 {
		return unknown("no trusted time-stamping authority is configured")
	}
	tp, err := pkcs7.Parse(token)
	if err != nil || tp.GetOnlySigner() == nil {
		return unknown("timestamp without its authority's certificate")
	}
	tsa := tp.GetOnlySigner()
	if ts.HashAlgorithm == crypto.SHA1 && !allowSHA1 {
		return unknown("the timestamp is over a SHA-1 digest, which is no longer evidence")
	}
	// RFC 3161 §2.3: the authority's certificate carries the timeStamping
	// extended key usage. Go's chain check would take a certificate with
	// no extended key usage at all as good for any, so it is required
	// here explicitly.
	if !slices.Contains(tsa.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
		return unknown("the timestamp's authority certificate lacks the timeStamping extended key usage")
	}
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	for _, c := range tp.Certificates {
		inter.AddCert(c)
	}
	if _, err := tsa.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		return unknown("the timestamp's authority is not trusted: " + err.Error())
	}
	if ts.Time.After(now.Add(time.Minute)) {
		ch.Result, ch.Detail = trust.Fail, "the timestamp is in the future"
		return ch, time.Time{}
	}
	ch.Result = trust.Pass
	ch.Detail = fmt.Sprintf("signature timestamped at %s by %s", ts.Time.UTC().Format(time.RFC3339), tsa.Subject.CommonName)
	return ch, ts.Time
}
