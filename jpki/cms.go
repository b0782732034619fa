package jpki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/mynakit/mynakit/trust"
)

// SignCMS makes a detached CMS SignedData over content with SHA-256, a
// signing-time attribute, the signer's certificate and chain (the card's CA
// certificate). signer is normally the card's signing key.
func SignCMS(content []byte, signer crypto.Signer, cert *x509.Certificate, chain ...*x509.Certificate) ([]byte, error) {
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
	sd.Detach()
	return sd.Finish()
}

// CMSResult is what VerifyCMS found.
type CMSResult struct {
	Signer      *x509.Certificate
	SigningTime time.Time // zero when the signature has none
	Checks      []trust.Check
	Verdict     trust.Verdict
}

// VerifyCMS checks a detached CMS signature over content: the signature
// itself, then the signer's certificate against store at the signing time
// (now when the signature carries none). The certificates inside the CMS are
// never trusted by themselves.
func VerifyCMS(content, sig []byte, store *trust.Store, crl *x509.RevocationList) (*CMSResult, error) {
	p7, err := pkcs7.Parse(sig)
	if err != nil {
		return nil, fmt.Errorf("not a CMS signature: %w", err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, errors.New("CMS signature must have exactly one signer")
	}
	res := &CMSResult{Signer: signer}
	var st time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &st); err == nil {
		res.SigningTime = st
	}
	p7.Content = content
	c := trust.Check{Name: "cms:signature"}
	if err := p7.Verify(); err != nil {
		c.Result, c.Detail = trust.Fail, err.Error()
	} else {
		c.Result, c.Detail = trust.Pass, "SignedData signature verifies over the file"
	}
	at := res.SigningTime
	if at.IsZero() {
		at = time.Now()
	}
	res.Checks = append(res.Checks, c, store.VerifyCertificate(signer, trust.CertOptions{Name: "x509:sign-certificate", At: at, NonRepudiation: true, CRL: crl}))
	res.Verdict = trust.Decide(res.Checks)
	return res, nil
}
