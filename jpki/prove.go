package jpki

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

// ProveAuthKey shows that the chip holds the private key of cert, the
// user-authentication certificate: the key (EF 0017, after the
// authentication PIN) signs SHA-256 of 32 random bytes the host chose just
// now, and the signature must verify with cert's public key. A certificate
// alone is public and can be copied; only this ties it to the chip.
//
// The check rests on certCheck (the certificate's chain to a J-LIS root)
// and passes only when that passed. A card that refuses or signs wrongly
// fails; a PIN that cannot be had, or a card that cannot be reached, is an
// error. random is the nonce source (nil: crypto/rand).
//
// The proof speaks for the authentication certificate only: nothing on
// the card links the signing certificate to this key (see ProveSignKey).
func (c *Card) ProveAuthKey(ctx context.Context, cert *x509.Certificate, certCheck trust.Check, random io.Reader) (trust.Check, error) {
	return c.proveKey(ctx, keyProof{
		name: trust.CheckPresenceJPKI, keyFID: myna.JPKIAuthKey, what: "authentication",
		digest: func(nonce []byte) [32]byte { return sha256.Sum256(nonce) },
	}, cert, certCheck, random)
}

// SignKeyProofContext is the fixed ASCII text that domain-separates the
// signing key's possession proof from every signature the key makes on a
// document. The key signs SHA-256(SignKeyProofContext ‖ N), N being 32
// bytes the host drew from its own random source for this proof alone
// (never a value a caller supplies). Why that can never be a document
// signature:
//
//   - a CMS / CAdES / PAdES signature (the only kind mynakit and the JPKI
//     ecosystem make with this key) signs SHA-256 of the DER of its signed
//     attributes, which always begins with 0x31 (the SET tag, RFC 5652
//     §5.4); the proof's preimage begins with 'm' (0x6D). Equal digests of
//     different preimages would be a SHA-256 collision, and N is fresh
//     randomness the other party never chose;
//   - an XML signature signs SHA-256 of a canonical SignedInfo, which
//     begins with '<';
//   - a CMS signature without signed attributes signs SHA-256 of the
//     content itself: the proof would then be a signature over a "document"
//     that consists of this sentence, which says that it is not one, and
//     32 random bytes no one chose.
const SignKeyProofContext = "mynakit JPKI signing-key possession proof, v1. This is not a signature of any document.\x00"

// SignKeyProofDigest is the digest the signing key signs for a possession
// proof over nonce: SHA-256(SignKeyProofContext ‖ nonce).
func SignKeyProofDigest(nonce []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(SignKeyProofContext))
	h.Write(nonce)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// ProveSignKey shows that the chip holds the private key of cert, the
// signing certificate: the signing key (EF 001A, after the signing
// password) signs SignKeyProofDigest of 32 random bytes the host chose
// just now, and the signature must verify with cert's key. This is the
// only proof that ties a signing certificate to the chip: the
// authentication key's proof says nothing about it, and signing
// certificates are effectively public (one is inside every CMS its holder
// signs). The check is trust.CheckBindingSignCert; it rests on certCheck
// and passes only when that passed. A card that refuses or signs wrongly
// fails.
func (c *Card) ProveSignKey(ctx context.Context, cert *x509.Certificate, certCheck trust.Check, random io.Reader) (trust.Check, error) {
	return c.proveKey(ctx, keyProof{
		name: trust.CheckBindingSignCert, keyFID: myna.JPKISignKey, what: "signing",
		digest: SignKeyProofDigest,
	}, cert, certCheck, random)
}

type keyProof struct {
	name   trust.CheckName
	keyFID uint16
	what   string
	digest func(nonce []byte) [32]byte
}

func (c *Card) proveKey(ctx context.Context, p keyProof, cert *x509.Certificate, certCheck trust.Check, random io.Reader) (trust.Check, error) {
	ch := trust.Check{Name: p.name, Anchor: certCheck.Anchor, Production: certCheck.Production}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		ch.Result, ch.Detail = trust.Fail, "the certificate's key is not RSA"
		return ch, nil
	}
	if random == nil {
		random = rand.Reader
	}
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(random, nonce); err != nil {
		return ch, fmt.Errorf("key proof: host nonce: %w", err)
	}
	sum := p.digest(nonce)
	di, _ := DigestInfo(crypto.SHA256, sum[:])
	sig, err := c.sess.Sign(ctx, myna.JPKI, p.keyFID, di)
	if err != nil {
		if apdu.Answered(err) {
			ch.Result, ch.Detail = trust.Fail, "the card refused to sign the host's nonce with the "+p.what+" key: "+err.Error()
			return ch, nil
		}
		return ch, fmt.Errorf("key proof: %w", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		ch.Result, ch.Detail = trust.Fail, "the card's signature over the host's nonce does not verify with the "+p.what+" certificate's key: the certificate is not this chip's"
		return ch, nil
	}
	ch.Result, ch.Detail = certCheck.Result, "the chip signed a fresh host nonce with the key of its "+p.what+" certificate"
	if certCheck.Result != trust.Pass {
		ch.Result = trust.Unknown
		ch.Detail += ", but the certificate itself did not verify"
	}
	return ch, nil
}
