package cardap

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// CVCertificate is a card-verifiable certificate (docs/card.md §5.4):
//
//	7F 21 L { 5F 4E 82 01 29 <297-byte body> ; 5F 37 82 01 00 <signature> }
//
// body = issuer key ID (16) ‖ subject key ID (16) ‖ RSA public key (265).
// The signature is RSASSA-PKCS1-v1_5 / SHA-256 over the body, by the J-LIS
// key the issuer key ID names; that key is not on the card.
type CVCertificate struct {
	IssuerKeyID  [16]byte
	SubjectKeyID [16]byte
	PublicKey    *rsa.PublicKey
	Body         []byte // the value of 5F4E
	Signature    []byte // the value of 5F37
	Raw          []byte
}

const cvBodyLen = 16 + 16 + 265

// ParseCVCertificate parses a CV certificate with or without its 7F21
// wrapper (GET DATA returns the bare form, §2.6).
func ParseCVCertificate(b []byte) (*CVCertificate, error) {
	inner := b
	first, _, err := tlv.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("CV certificate: %w", err)
	}
	if first.Tag == 0x7F21 { // wrapped, as in EF 0004 (filler after it is ignored)
		inner, b = first.Value, first.Raw
	}
	objs, err := tlv.ParseAll(inner)
	if err != nil {
		return nil, fmt.Errorf("CV certificate: %w", err)
	}
	body, ok1 := tlv.Find(objs, 0x5F4E)
	sig, ok2 := tlv.Find(objs, 0x5F37)
	if !ok1 || !ok2 || len(objs) != 2 {
		return nil, fmt.Errorf("CV certificate: want 5F4E and 5F37: %w", apdu.ErrMalformed)
	}
	if len(body.Value) != cvBodyLen {
		return nil, fmt.Errorf("CV certificate: body of %d bytes, want %d: %w", len(body.Value), cvBodyLen, apdu.ErrMalformed)
	}
	pub, err := ParseRSAPublicKey(body.Value[32:])
	if err != nil {
		return nil, fmt.Errorf("CV certificate: %w", err)
	}
	c := &CVCertificate{PublicKey: pub, Body: body.Value, Signature: sig.Value, Raw: b}
	copy(c.IssuerKeyID[:], body.Value[:16])
	copy(c.SubjectKeyID[:], body.Value[16:32])
	return c, nil
}

// ParseRSAPublicKey parses the card's key encoding: 90 03 <exponent> ‖
// 91 82 01 00 <modulus> (docs/card.md §2.7; no sign byte).
func ParseRSAPublicKey(b []byte) (*rsa.PublicKey, error) {
	objs, err := tlv.ParseAll(b)
	if err != nil {
		return nil, fmt.Errorf("RSA key: %w", err)
	}
	e, ok1 := tlv.Find(objs, 0x90)
	n, ok2 := tlv.Find(objs, 0x91)
	if !ok1 || !ok2 || len(e.Value) == 0 || len(e.Value) > 4 || len(n.Value) < 128 {
		return nil, fmt.Errorf("RSA key: want 90 exponent and 91 modulus: %w", apdu.ErrMalformed)
	}
	exp := 0
	for _, c := range e.Value {
		exp = exp<<8 | int(c)
	}
	if exp < 3 || exp%2 == 0 {
		return nil, fmt.Errorf("RSA key: exponent %d: %w", exp, apdu.ErrMalformed)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n.Value), E: exp}, nil
}

// Verify checks the certificate against the CV CA key its issuer key ID
// names, which must hold role: a CA key verifies only the certificates of
// its own role (a text-applet certificate signed by the card-face CA key or
// by the card-level root fails). name is the check's name.
func (c *CVCertificate) Verify(store *trust.Store, role trust.CVRole, name trust.CheckName) trust.Check {
	ch := trust.Check{Name: name}
	key, ok := store.CVKey(c.IssuerKeyID[:])
	if !ok {
		ch.Result = trust.Unknown
		ch.Detail = fmt.Sprintf("no trust anchor for CV issuer key %s", trust.KeyIDString(c.IssuerKeyID[:]))
		return ch
	}
	ch = key.Anchor.Rests(ch)
	if key.Role != role {
		ch.Result = trust.Fail
		ch.Detail = fmt.Sprintf("issued by %s, a %s key, where a %s key is required", trust.KeyIDString(c.IssuerKeyID[:]), key.Role, role)
		return ch
	}
	sum := sha256.Sum256(c.Body)
	if err := rsa.VerifyPKCS1v15(key.Public, crypto.SHA256, sum[:], c.Signature); err != nil {
		ch.Result, ch.Detail = trust.Fail, fmt.Sprintf("signature by %s does not verify", trust.KeyIDString(c.IssuerKeyID[:]))
		return ch
	}
	ch.Result = trust.Pass
	ch.Detail = fmt.Sprintf("%s certified by %s", trust.KeyIDString(c.SubjectKeyID[:]), trust.KeyIDString(c.IssuerKeyID[:]))
	return ch
}

// CheckRecord is the check of a record the applet's J-LIS key signed: an
// RSASSA-PKCS1-v1_5 / SHA-256 signature sig over signed, under the key cv
// certifies (cv may be nil: no certificate), whose own check is cvCheck. A
// record that does not verify fails whatever the certificate; one that
// verifies under an unverified certificate is unknown, not passed. what
// names the record in the detail.
func (cv *CVCertificate) CheckRecord(name trust.CheckName, cvCheck trust.Check, signed, sig []byte, what string) trust.Check {
	ch := trust.Check{Name: name, Anchor: cvCheck.Anchor, Production: cvCheck.Production}
	sum := sha256.Sum256(signed)
	if cv == nil {
		ch.Result, ch.Detail = trust.Fail, "no card-verifiable certificate to check it with"
		return ch
	}
	if err := rsa.VerifyPKCS1v15(cv.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		ch.Result, ch.Detail = trust.Fail, what+": J-LIS signature does not verify"
		return ch
	}
	return passUnder(ch, cvCheck, what+": J-LIS signature verifies")
}

// passUnder marks ch as passed if the CV certificate passed, else unknown;
// either way it rests on the certificate's anchor.
func passUnder(ch trust.Check, cvCheck trust.Check, detail string) trust.Check {
	ch.Anchor, ch.Production = cvCheck.Anchor, cvCheck.Production
	if cvCheck.Result == trust.Pass {
		ch.Result, ch.Detail = trust.Pass, detail
	} else {
		ch.Result, ch.Detail = trust.Unknown, detail+", but under an unverified card-verifiable certificate"
	}
	return ch
}
