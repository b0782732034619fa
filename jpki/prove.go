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
func (c *Card) ProveAuthKey(ctx context.Context, cert *x509.Certificate, certCheck trust.Check, random io.Reader) (trust.Check, error) {
	ch := trust.Check{Name: trust.CheckPresenceJPKI, Anchor: certCheck.Anchor, Production: certCheck.Production}
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
	sum := sha256.Sum256(nonce)
	di, _ := DigestInfo(crypto.SHA256, sum[:])
	sig, err := c.sess.Sign(ctx, myna.JPKI, myna.JPKIAuthKey, di)
	if err != nil {
		if apdu.Answered(err) {
			ch.Result, ch.Detail = trust.Fail, "the card refused to sign the host's nonce with the authentication key: "+err.Error()
			return ch, nil
		}
		return ch, fmt.Errorf("key proof: %w", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		ch.Result, ch.Detail = trust.Fail, "the card's signature over the host's nonce does not verify with the authentication certificate's key"
		return ch, nil
	}
	ch.Result, ch.Detail = certCheck.Result, "the chip signed a fresh host nonce with the key of its authentication certificate"
	if certCheck.Result == trust.Fail {
		ch.Result = trust.Unknown
		ch.Detail += ", but the certificate itself did not verify"
	}
	return ch, nil
}
