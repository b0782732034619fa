package cardap

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// sha256DigestInfo is the DER header of a SHA-256 DigestInfo.
var sha256DigestInfo = [...]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// NonceSize is the number of random bytes the host adds to every presence
// proof.
const NonceSize = 32

// Proof is what a presence proof exchanged, for a report or a log.
type Proof struct {
	Challenge []byte // R, from the card
	Nonce     []byte // N, from the host
	Signature []byte // the card's answer
}

// ProvePresence shows the chip holding the data is in the reader (card
// reference §5.9). The card gives a 16-byte challenge R (GET CHALLENGE);
// the host adds NonceSize random bytes N of its own and has the applet's
// default key sign SHA-256(R ‖ N) (80 2A 00 00, no credential); the answer
// must verify under key — the card key from a record whose J-LIS signature
// was checked (keyCheck).
//
// The host's N is what makes the proof fresh: the card chooses R, so a clone
// that replays one recorded challenge and signature would pass a proof over
// R alone (the replay warning of §5.9). The card signs whatever DigestInfo
// it is sent, so N costs nothing on a genuine card.
//
// A proof ties only applet a's data to the chip: each applet whose facts
// are shown needs its own (the text applet with its EF 0007 key, the card
// face with its card key). A status word from another applet — the card
// face answering 90 00 to the text applet's My Number as 照合番号A — ties
// nothing, since a shim in front of a genuine card answers it for data
// copied from another card (docs/card.md §5.9, per-applet warning).
//
// The check passes only when keyCheck passed too (unknown when it is
// unknown). A card that refuses to sign, or signs wrongly, fails the check;
// only a failure to reach the card (pulled, reset, cancelled) is an error.
// random is the source of N (nil: crypto/rand).
func ProvePresence(ctx context.Context, sess Session, a myna.Applet, name trust.CheckName, key *rsa.PublicKey, keyCheck trust.Check, random io.Reader) (trust.Check, *Proof, error) {
	ch := trust.Check{Name: name, Anchor: keyCheck.Anchor, Production: keyCheck.Production}
	if key == nil {
		ch.Result, ch.Detail = trust.Fail, "no verified card key to prove presence with ("+string(keyCheck.Name)+" did not pass)"
		return ch, nil, nil
	}
	if random == nil {
		random = rand.Reader
	}
	p := &Proof{Nonce: make([]byte, NonceSize)}
	if _, err := io.ReadFull(random, p.Nonce); err != nil {
		return ch, nil, fmt.Errorf("presence proof: host nonce: %w", err)
	}
	var err error
	p.Challenge, err = sess.Challenge(ctx, a, 16)
	if err != nil {
		if apdu.Answered(err) {
			ch.Result, ch.Detail = trust.Fail, "the card refused to give a challenge: "+err.Error()
			return ch, p, nil
		}
		return ch, p, fmt.Errorf("presence proof on %s: %w", a.JapaneseName(), err)
	}
	sum := sha256.Sum256(append(append([]byte(nil), p.Challenge...), p.Nonce...))
	di := append(append([]byte(nil), sha256DigestInfo[:]...), sum[:]...)
	p.Signature, err = sess.Sign(ctx, a, pin.DefaultKey, di)
	if err != nil {
		if apdu.Answered(err) {
			ch.Result, ch.Detail = trust.Fail, "the card refused to sign the host's fresh nonce: "+err.Error()
			return ch, p, nil
		}
		return ch, p, fmt.Errorf("presence proof on %s: %w", a.JapaneseName(), err)
	}
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], p.Signature); err != nil {
		ch.Result, ch.Detail = trust.Fail, "the card's signature over a fresh challenge and host nonce does not verify with the card key in the signed record"
		return ch, p, nil
	}
	return passUnder(ch, keyCheck, "the chip signed a fresh challenge and host nonce with the key J-LIS certified"), p, nil
}
