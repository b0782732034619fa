package persona

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"sync"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	ber "github.com/mynakit/mynakit/tlv"
)

// The simulator's fixed test keys (simulator/testdata/keys, RSA-2048,
// PKCS#8 PEM), by file name without ".pem".
const (
	keyJPKIAuthRoot = "jpki-auth-root" // X.509 root, 利用者証明用 (EF 000B)
	keyJPKISignRoot = "jpki-sign-root" // X.509 root, 署名用 (EF 0002)
	keyUserAuth     = "user-auth"      // JPKI 0017
	keyUserSign     = "user-sign"      // JPKI 001A
	keyCVRoot       = "cv-root"        // MF chain root, signs GET DATA 00F8
	keyCVInter      = "cv-intermediate"
	keyCVSurfaceCA  = "cv-surface-ca" // signs 券面事項確認AP EF 0004
	keyCVTextCA     = "cv-text-ca"    // signs 入力補助AP EF 0004
	keySurfaceAP    = "surface-ap"    // 券面事項確認AP data-signing key (certified by EF 0004)
	keyTextAP       = "text-ap"       // 入力補助AP data-signing key (certified by EF 0004)
	keyCard         = "card"          // 券面事項確認AP 001A; public half in DF12/DF24/DF42; lowest MF key
	keyTextCard     = "text-card"     // 入力補助AP 0013; public half in EF 0007 DF51
	keyTextSM       = "text-sm"       // 入力補助AP SM key; public half in EF 0006
	keyCommon       = "common-auth"   // 共通AP 0019 (INTERNAL AUTHENTICATE)
)

var keyNames = []string{
	keyJPKIAuthRoot, keyJPKISignRoot, keyUserAuth, keyUserSign, keyCVRoot, keyCVInter,
	keyCVSurfaceCA, keyCVTextCA, keySurfaceAP, keyTextAP, keyCard, keyTextCard, keyTextSM, keyCommon,
}

type testKey struct {
	priv *rsa.PrivateKey
	pem  string // PKCS#8 PEM as shipped
}

var (
	keysOnce sync.Once
	keys     map[string]testKey
	keysErr  error
)

// loadKeys parses the shipped keys once.
func loadKeys() (map[string]testKey, error) {
	keysOnce.Do(func() {
		m := make(map[string]testKey, len(keyNames))
		for _, name := range keyNames {
			b, err := fs.ReadFile(simulator.TestData(), "keys/"+name+".pem")
			if err != nil {
				keysErr = fmt.Errorf("persona: test key %s: %w", name, err)
				return
			}
			blk, _ := pem.Decode(b)
			if blk == nil || blk.Type != "PRIVATE KEY" {
				keysErr = fmt.Errorf("persona: test key %s is not a PKCS#8 PEM", name)
				return
			}
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				keysErr = fmt.Errorf("persona: test key %s: %w", name, err)
				return
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok || rk.N.BitLen() != 2048 || rk.E != 65537 {
				keysErr = fmt.Errorf("persona: test key %s is not RSA-2048 with e=65537", name)
				return
			}
			rk.Precompute()
			m[name] = testKey{priv: rk, pem: string(b)}
		}
		keys = m
	})
	return keys, keysErr
}

func defaultPhoto() ([]byte, error) {
	b, err := fs.ReadFile(simulator.TestData(), "photo/default.jp2")
	if err != nil {
		return nil, fmt.Errorf("persona: default photo: %w", err)
	}
	return b, nil
}

// KeyID is a 16-byte key identifier (docs/card.md §2.7): 7 ASCII digits,
// 08 05, 3 ASCII digits, 00 00 00 suffix.
type KeyID [16]byte

// MakeKeyID builds a key ID from its printed form's parts. number must be 7
// digits and group 3 digits; suffix is A8 for the MF-level chain keys, else 00.
func MakeKeyID(number, group string, suffix byte) KeyID {
	if !myna.Digits(number, 7) || !myna.Digits(group, 3) {
		panic(fmt.Sprintf("persona: bad key ID %s/%s", number, group))
	}
	var id KeyID
	copy(id[0:7], number)
	id[7], id[8] = 0x08, 0x05
	copy(id[9:12], group)
	id[15] = suffix
	return id
}

// String prints the key ID as NNNNNNN/GGG.
func (id KeyID) String() string { return string(id[0:7]) + "/" + string(id[9:12]) }

// Key IDs of the simulator's CV hierarchy. They use the test leading digit
// 6 with a 699xxxx number so they never collide with production (5xxxxxx)
// nor with the real JPKI-TEST keys 6000020/6000023/6000033, whose moduli are
// published: reusing those IDs with our keys would look like a forgery.
var (
	IDCVRoot      = MakeKeyID("6990020", "001", 0xA8) // MF chain root (GET DATA 00F8 issuer)
	IDCVInter     = MakeKeyID("6990021", "001", 0xA8) // MF intermediate (00F7; 00F8 subject; 7F21 issuer)
	IDMFLower     = MakeKeyID("6990022", "001", 0xA8) // MF lowest key (7F21 subject): the card key
	IDCVSurfaceCA = MakeKeyID("6990023", "001", 0x00) // signs 券面事項確認AP EF 0004
	IDCVTextCA    = MakeKeyID("6990033", "001", 0x00) // signs 入力補助AP EF 0004
	IDSurfaceInfo = MakeKeyID("6990024", "001", 0x00) // 券面事項確認AP EF 0003 DF32 (meaning unknown on cards)
	IDCodeCrypt   = MakeKeyID("6990025", "001", 0x00) // 券面事項確認AP EF 0003 DF35 (cards: 5900025/001)
	IDTextInfo    = MakeKeyID("6990034", "001", 0x00) // 入力補助AP EF 0005 DF42 (meaning unknown on cards)
	IDKeyRef      = MakeKeyID("6990040", "001", 0x00) // 共通AP/住基AP EF 0002 record
)

// apKeyID is the subject key ID of an AP's CV certificate: the municipality
// code and a 2-digit AP number (the test card's surface AP shows 1322121/000).
func apKeyID(municipality, ap string) KeyID { return MakeKeyID(municipality+ap, "000", 0x00) }

// appendLen appends a length the way the 券面 applets' private-class TLVs
// carry it: short form below 128, otherwise 82 hh ll. docs/card.md §10.4
// leaves the 128-255 form open; MYNA's vector FF 40 82 00 9F hints at
// 82 00 xx, which every BER parser accepts.
func appendLen(dst []byte, n int) []byte {
	if n < 0x80 {
		return append(dst, byte(n))
	}
	return append(dst, 0x82, byte(n>>8), byte(n))
}

// tlv encodes one object with appendLen.
func tlv(tag uint32, value ...[]byte) []byte {
	n := 0
	for _, v := range value {
		n += len(v)
	}
	out := ber.AppendTag(make([]byte, 0, n+6), tag)
	out = appendLen(out, n)
	for _, v := range value {
		out = append(out, v...)
	}
	return out
}

// RSAPublicBytes encodes an RSA-2048 public key as the 券面 records and CV
// certificates carry it: 90 03 01 00 01 ‖ 91 82 01 00 ‖ 256-byte modulus
// (265 bytes, docs/card.md §2.7).
func RSAPublicBytes(pub *rsa.PublicKey) []byte {
	out := []byte{0x90, 0x03, 0x01, 0x00, 0x01, 0x91, 0x82, 0x01, 0x00}
	return append(out, pub.N.FillBytes(make([]byte, 256))...)
}

// CVBody is the 297-byte body of a CV certificate (docs/card.md §5.4):
// issuer key ID ‖ subject key ID ‖ public key.
func CVBody(issuer, subject KeyID, pub *rsa.PublicKey) []byte {
	out := make([]byte, 0, 297)
	out = append(out, issuer[:]...)
	out = append(out, subject[:]...)
	return append(out, RSAPublicBytes(pub)...)
}

// CVCertBare is a CV certificate without the 7F21 wrapper (the GET DATA
// 00F8/7F21 form): 5F4E 82 01 29 body ‖ 5F37 82 01 00 signature, the
// signature being RSASSA-PKCS1-v1_5/SHA-256 over the body by the issuer key.
func CVCertBare(issuerKey *rsa.PrivateKey, issuer, subject KeyID, pub *rsa.PublicKey) []byte {
	body := CVBody(issuer, subject, pub)
	return append(tlv(0x5F4E, body), tlv(0x5F37, sign(issuerKey, body))...)
}

// CVCert is the full 568-byte 7F21 CV certificate of a 券面 AP's EF 0004.
func CVCert(issuerKey *rsa.PrivateKey, issuer, subject KeyID, pub *rsa.PublicKey) []byte {
	return tlv(0x7F21, CVCertBare(issuerKey, issuer, subject, pub))
}

// sign is RSASSA-PKCS1-v1_5 with SHA-256 over msg (deterministic).
func sign(k *rsa.PrivateKey, msg []byte) []byte {
	h := sha256.Sum256(msg)
	s, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
	if err != nil {
		panic(err) // cannot happen with a valid 2048-bit key
	}
	return s
}

// signDigestInfo applies PKCS#1 v1.5 type-01 padding to a hand-built
// DigestInfo and signs it (the card-face three-digest form, §5.7).
func signDigestInfo(k *rsa.PrivateKey, digestInfo []byte) []byte {
	s, err := rsa.SignPKCS1v15(nil, k, crypto.Hash(0), digestInfo)
	if err != nil {
		panic(err)
	}
	return s
}

// maxTries is the retry limit the simulator gives each key EF (card
// reference §3.1; where the card's limit is not established — 照合番号A, the
// birth-date key, 共通 001C — the simulator uses 10 for the codes and 3 for
// the PIN, matching 照合番号B's 10 and the other 4-digit PINs).
func maxTries(a myna.Applet, fid uint16) int {
	switch a {
	case myna.JPKI:
		if fid == myna.JPKISignPIN {
			return 5
		}
		return 3
	case myna.Text:
		switch fid {
		case myna.TextPIN, myna.TextBlockedKey:
			return 3
		}
		return 10
	case myna.Surface:
		return 10
	}
	return 3
}
