package cardap

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// sha256DigestInfo is the DER header of a SHA-256 DigestInfo.
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// ProvePresence shows the chip holding the data is in the reader (card
// reference §5.9): a 16-byte challenge from the card, signed by the
// applet's default key (80 2A 00 00, no credential), verified with key —
// the card key from a record whose J-LIS signature was checked. The check
// passes only if that record's check passed too (cardKeyCheck).
func ProvePresence(ctx context.Context, sess *pin.Session, a myna.Applet, key *rsa.PublicKey, cardKeyCheck trust.Check) trust.Check {
	ch := trust.Check{Name: trust.CheckName("presence:" + a.Name()), Anchor: cardKeyCheck.Anchor, Production: cardKeyCheck.Production}
	if key == nil {
		ch.Result, ch.Detail = trust.Unknown, "no card key was read"
		return ch
	}
	if err := sess.Select(ctx, a); err != nil {
		ch.Result, ch.Detail = trust.Unknown, "select: "+err.Error()
		return ch
	}
	card := sess.Card()
	r, err := card.GetChallenge(ctx, 16)
	if err != nil {
		ch.Result, ch.Detail = trust.Unknown, err.Error()
		return ch
	}
	sum := sha256.Sum256(r)
	sig, err := card.ComputeSignature(ctx, 0x00, 0x00, append(append([]byte(nil), sha256DigestInfo...), sum[:]...))
	if err != nil {
		ch.Result, ch.Detail = trust.Unknown, err.Error()
		return ch
	}
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		ch.Result, ch.Detail = trust.Fail, "the card's answer to a fresh challenge does not verify with the card key in the signed record"
		return ch
	}
	return passUnder(ch, cardKeyCheck, "the card signed a fresh challenge with the key J-LIS certified")
}
