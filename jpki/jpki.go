// Package jpki speaks to the card's 公的個人認証AP (JPKI applet): the
// user-authentication and signing certificates with their CA certificates,
// the token type, crypto.Signers for both private keys, the holder
// attributes in the signing certificate, and CMS signatures made with them.
package jpki

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// Token is the kind of JPKI token, from the label in EF 0006 (card
// reference §1.3).
type Token string

const (
	TokenCard    Token = "card"    // JPKIAPICCTOKEN2: Individual Number Card
	TokenJuki    Token = "juki"    // JPKIAPICCTOKEN: 住民基本台帳カード
	TokenAndroid Token = "android" // JPKIAPGPSETOKEN: スマホ用電子証明書 (Android)
	TokenIPhone  Token = "iphone"  // JPKIAPIOSTOKEN: スマホ用電子証明書 (iPhone)
	TokenUnknown Token = "unknown"
)

// ParseToken classifies the token label (the first 32 bytes of EF 0006,
// space-padded; short reads and NUL padding are tolerated).
func ParseToken(b []byte) (Token, string) {
	if len(b) > 32 {
		b = b[:32]
	}
	label := string(bytes.TrimRight(b, " \x00\xff"))
	switch label {
	case "JPKIAPICCTOKEN2":
		return TokenCard, label
	case "JPKIAPICCTOKEN":
		return TokenJuki, label
	case "JPKIAPGPSETOKEN":
		return TokenAndroid, label
	case "JPKIAPIOSTOKEN":
		return TokenIPhone, label
	}
	return TokenUnknown, label
}

// Card is the JPKI applet of one card, reached through a PIN session.
type Card struct {
	sess *pin.Session
}

// NewCard uses sess for selection, PIN verification and every command.
func NewCard(sess *pin.Session) *Card { return &Card{sess: sess} }

// TokenLabelBytes is how much of EF 0006 Token reads: every label the card
// reference lists has at most 15 characters, and the 16th byte shows the
// padding after it (a longer label is one no source lists).
const TokenLabelBytes = 16

// Token reads the token type (EF 0006, free) from the start of its label.
func (c *Card) Token(ctx context.Context) (Token, string, error) {
	b, err := c.sess.ReadBinary(ctx, myna.JPKI, myna.JPKIToken, 0, TokenLabelBytes)
	if err != nil {
		return TokenUnknown, "", fmt.Errorf("token type: %w", err)
	}
	t, label := ParseToken(b)
	return t, label, nil
}

// Certificate reads the certificate in EF fid, verifying first whatever the
// file needs (the signing password for EF 0001). A certificate that does
// not parse is an error matching apdu.ErrMalformed.
func (c *Card) Certificate(ctx context.Context, fid uint16) (*x509.Certificate, error) {
	der, err := c.sess.ReadObject(ctx, myna.JPKI, fid)
	if errors.Is(err, apdu.ErrSecurityStatus) && fid == myna.JPKIAuthCert {
		// The smartphone tokens protect the authentication certificate
		// with the authentication PIN (docs/card.md §7.7).
		if err = c.sess.Verify(ctx, myna.MustKey(myna.KeyJPKIAuthPIN)); err != nil {
			return nil, err
		}
		der, err = c.sess.ReadObject(ctx, myna.JPKI, fid)
	}
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("EF %04X: %w: %v", fid, apdu.ErrMalformed, err)
	}
	return cert, nil
}

// AuthCertificate reads the 利用者証明用電子証明書 (no PIN on the card).
func (c *Card) AuthCertificate(ctx context.Context) (*x509.Certificate, error) {
	return c.Certificate(ctx, myna.JPKIAuthCert)
}

// AuthCACertificate reads the CA certificate of the authentication certificate.
func (c *Card) AuthCACertificate(ctx context.Context) (*x509.Certificate, error) {
	return c.Certificate(ctx, myna.JPKIAuthCACert)
}

// SignCertificate reads the 署名用電子証明書 (needs the signing password).
func (c *Card) SignCertificate(ctx context.Context) (*x509.Certificate, error) {
	return c.Certificate(ctx, myna.JPKISignCert)
}

// SignCACertificate reads the CA certificate of the signing certificate.
func (c *Card) SignCACertificate(ctx context.Context) (*x509.Certificate, error) {
	return c.Certificate(ctx, myna.JPKISignCACert)
}
