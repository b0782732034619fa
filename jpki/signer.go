package jpki

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/mynakit/mynakit/myna"
)

// digestInfoPrefixes are the DER DigestInfo headers the host prepends to a
// digest; the card only pads and signs (docs/card.md §5.1).
var digestInfoPrefixes = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// ErrUnsupportedHash is returned for a hash the signer cannot wrap.
var ErrUnsupportedHash = errors.New("jpki: unsupported hash or signature scheme")

// DigestInfo wraps a digest in its DER DigestInfo.
func DigestInfo(h crypto.Hash, digest []byte) ([]byte, error) {
	prefix, ok := digestInfoPrefixes[h]
	if !ok || len(digest) != h.Size() {
		return nil, fmt.Errorf("%w: %v with %d-byte digest", ErrUnsupportedHash, h, len(digest))
	}
	return append(append([]byte(nil), prefix...), digest...), nil
}

// Signer is a crypto.Signer backed by one of the card's JPKI keys. Sign
// verifies the key's PIN through the session (asking at most once) and sends
// COMPUTE DIGITAL SIGNATURE 80 2A 00 80 with the DigestInfo.
type Signer struct {
	card   *Card
	keyFID uint16
	cert   *x509.Certificate
	ctx    context.Context
}

// AuthSigner returns a signer for the user-authentication key (EF 0017,
// PIN 0018). cert is the matching certificate (it supplies the public key).
func (c *Card) AuthSigner(ctx context.Context, cert *x509.Certificate) *Signer {
	return &Signer{card: c, keyFID: myna.JPKIAuthKey, cert: cert, ctx: ctx}
}

// SignSigner returns a signer for the signing key (EF 001A, password 001B).
func (c *Card) SignSigner(ctx context.Context, cert *x509.Certificate) *Signer {
	return &Signer{card: c, keyFID: myna.JPKISignKey, cert: cert, ctx: ctx}
}

// Public is the certificate's public key.
func (s *Signer) Public() crypto.PublicKey { return s.cert.PublicKey }

// Certificate is the certificate of the key.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// Sign signs a digest with PKCS#1 v1.5. PSS is refused: the card's PSS
// schemes are documented by one source only (docs/card.md §4.3).
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return nil, fmt.Errorf("%w: PSS", ErrUnsupportedHash)
	}
	di, err := DigestInfo(opts.HashFunc(), digest)
	if err != nil {
		return nil, err
	}
	sig, err := s.card.sess.Sign(s.ctx, myna.JPKI, s.keyFID, di)
	if err != nil {
		return nil, fmt.Errorf("sign with key %04X: %w", s.keyFID, err)
	}
	if pub, ok := s.cert.PublicKey.(*rsa.PublicKey); ok {
		if err := rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig); err != nil {
			return nil, fmt.Errorf("card's signature does not match its certificate: %w", err)
		}
	}
	return sig, nil
}
