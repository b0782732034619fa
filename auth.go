package mynakit

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/trust"
)

// MaxChallenge bounds the challenge Authenticate signs. Web-login
// challenges are a few dozen bytes; the bound keeps a caller from handing
// the card's key arbitrary data through a bridge.
const MaxChallenge = 4096

// ErrChallenge: the challenge is empty or longer than MaxChallenge.
var ErrChallenge = errors.New("the challenge must be 1 to 4096 bytes")

// Authenticate signs a login challenge with the JPKI user-authentication
// key (利用者証明用電子証明書), asking for its 4-digit PIN through the
// session: the key signs the DER DigestInfo of SHA-256(challenge) with
// PKCS#1 v1.5, as web-login portals expect. It returns the signature and
// the certificate whose key made it; the signature is checked against the
// certificate before it is returned. Judging the certificate (its chain to
// a J-LIS root, its expiry) is the verifier's job; CertificateCheck does it
// with the card's anchors.
func (c *Card) Authenticate(ctx context.Context, challenge []byte) (sig []byte, cert *x509.Certificate, err error) {
	if len(challenge) == 0 || len(challenge) > MaxChallenge {
		return nil, nil, ErrChallenge
	}
	digest := sha256.Sum256(challenge)
	err = c.do(ctx, func(ctx context.Context) error {
		jc := jpki.NewCard(c.sess)
		var err error
		if cert, err = jc.AuthCertificate(ctx); err != nil {
			return err
		}
		sig, err = jc.AuthSigner(ctx, cert).Sign(nil, digest[:], crypto.SHA256)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sig, cert, nil
}

// SignDigest signs a digest the caller made with the JPKI signing key
// (署名用電子証明書), asking for the signing password: a raw PKCS#1 v1.5
// signature over the DigestInfo of h and digest, for callers that build
// their own signature container. The signature is checked against the
// signing certificate, which is returned with it.
func (c *Card) SignDigest(ctx context.Context, h crypto.Hash, digest []byte) (sig []byte, cert *x509.Certificate, err error) {
	if _, err := jpki.DigestInfo(h, digest); err != nil {
		return nil, nil, err
	}
	err = c.do(ctx, func(ctx context.Context) error {
		jc := jpki.NewCard(c.sess)
		var err error
		if cert, err = jc.SignCertificate(ctx); err != nil {
			return err
		}
		sig, err = jc.SignSigner(ctx, cert).Sign(nil, digest, h)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return sig, cert, nil
}

// CertificateCheck judges a certificate the card returned (from
// Authenticate or SignDigest) against the card's anchors at now (zero:
// time.Now()): its chain to a JPKI root and its validity, and for the
// signing certificate its key usage.
func (c *Card) CertificateCheck(kind CertKind, cert *x509.Certificate, now time.Time) (trust.Check, error) {
	if now.IsZero() {
		now = time.Now()
	}
	switch kind {
	case CertAuth:
		return c.store.VerifyCertificate(cert, trust.CertOptions{Name: trust.CheckAuthCert, At: now, Now: now}), nil
	case CertSign:
		return c.store.VerifyCertificate(cert, trust.CertOptions{Name: trust.CheckSignCert, At: now, Now: now, NonRepudiation: true}), nil
	}
	return trust.Check{}, fmt.Errorf("no certificate %q (want auth or sign)", kind)
}
