package mynakit

import (
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"time"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/trust"
)

// SignatureOptions says what a detached CMS signature is judged against.
type SignatureOptions struct {
	// TrustDirs adds anchors, as OpenOptions.TrustDirs does.
	TrustDirs []string
	// TestAnchors, when set, adds a test double's anchors (the simulator's,
	// for signatures made with a simulated card).
	TestAnchors TestAnchorProvider
	// CRL, when set, is checked for the signer's certificate.
	CRL *x509.RevocationList
	// TSARoots are the time-stamping authorities whose RFC 3161 timestamps
	// may set the time the certificate is judged at.
	TSARoots []*x509.Certificate
	// Now is the current time (zero: time.Now()).
	Now time.Time
	// AllowSHA1 accepts a SHA-1 signature, with a warning in the report
	// (SignatureReport.Warnings). Without it a SHA-1 signature is unknown:
	// SHA-1 is no longer evidence.
	AllowSHA1 bool
}

// SignatureReport is a verified detached CMS signature.
type SignatureReport struct {
	*jpki.CMSResult
	// Attributes are the signer's holder attributes (name, address, birth
	// date, sex) from the signing certificate, when present.
	Attributes *jpki.Attributes
	Anchors    []trust.Anchor
}

// VerifySignature checks a detached CMS signature over content and the
// signer's certificate chain to the J-LIS roots, judged now (or at a
// trusted timestamp's time; never at the time the signer wrote). The error
// is non-nil only for input that is not a CMS signature at all.
func VerifySignature(content, sig []byte, opts SignatureOptions) (*SignatureReport, error) {
	store, err := NewTrustStore(opts.TrustDirs, opts.TestAnchors)
	if err != nil {
		return nil, err
	}
	res, err := jpki.VerifyCMS(content, sig, jpki.CMSOptions{Store: store, CRL: opts.CRL, TSARoots: opts.TSARoots, Now: opts.Now, AllowSHA1: opts.AllowSHA1})
	if err != nil {
		return nil, err
	}
	rep := &SignatureReport{CMSResult: res, Anchors: anchorsOf(res.Checks)}
	if a, err := jpki.ParseAttributes(res.Signer); err == nil {
		rep.Attributes = a
	}
	return rep, nil
}

// SignOptions says how to sign.
type SignOptions struct {
	// Timestamper, when set, timestamps the signature (see
	// jpki.HTTPTimestamper).
	Timestamper jpki.Timestamper
}

// SignDocument makes a detached CMS SignedData over content with the card's
// signing key (asking for the signing password once), with the signing
// certificate and the card's CA certificate, timestamped when
// opts.Timestamper is set. The card is held only while it is read and
// while it signs: the timestamp, a network round trip, is asked for after
// the card's transaction ended.
func (c *Card) SignDocument(ctx context.Context, content []byte, opts SignOptions) ([]byte, error) {
	var cert, ca *x509.Certificate
	err := c.do(ctx, func(ctx context.Context) error {
		jc := jpki.NewCard(c.sess)
		var err error
		if cert, err = jc.SignCertificate(ctx); err != nil {
			return err
		}
		ca, err = jc.SignCACertificate(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return jpki.SignCMS(content, cardSigner{c: c, ctx: ctx, cert: cert}, cert, opts.Timestamper, ca)
}

// SigningKey reads the card's signing certificate and its CA certificate
// in one transaction and returns the signing key as a crypto.Signer whose
// every signature is a transaction of its own (the signing password is
// asked once per session). For signatures other than SignDocument's
// detached CMS, e.g. package pdfsig's PAdES signatures.
func (c *Card) SigningKey(ctx context.Context) (signer crypto.Signer, cert, ca *x509.Certificate, err error) {
	err = c.do(ctx, func(ctx context.Context) error {
		jc := jpki.NewCard(c.sess)
		var err error
		if cert, err = jc.SignCertificate(ctx); err != nil {
			return err
		}
		ca, err = jc.SignCACertificate(ctx)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return cardSigner{c: c, ctx: ctx, cert: cert}, cert, ca, nil
}

// cardSigner is the card's signing key as a crypto.Signer whose every
// signature is one transaction of its own.
type cardSigner struct {
	c    *Card
	ctx  context.Context
	cert *x509.Certificate
}

func (s cardSigner) Public() crypto.PublicKey { return s.cert.PublicKey }

func (s cardSigner) Sign(rand io.Reader, digest []byte, o crypto.SignerOpts) (sig []byte, err error) {
	err = s.c.do(s.ctx, func(ctx context.Context) error {
		var err error
		sig, err = jpki.NewCard(s.c.sess).SignSigner(ctx, s.cert).Sign(rand, digest, o)
		return err
	})
	return sig, err
}
