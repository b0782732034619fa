package webeid

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Format is the token format identifier this package makes and accepts.
const Format = "web-eid:1.0"

// MinNonceBytes is the least randomness a challenge nonce must carry: 256
// bits, as the Web eID specification requires.
const MinNonceBytes = 32

// maxNonceLen bounds the nonce string a client will sign or a server parse.
const maxNonceLen = 1024

// maxTokenBytes bounds a token a server parses: a certificate of a few
// kilobytes and a signature.
const maxTokenBytes = 64 << 10

// AppVersion is the appVersion URL tokens made by mynakit carry.
const AppVersion = "https://github.com/mynakit/mynakit/releases"

// Algorithm is a JWA signature algorithm name (RFC 7518 §3.3–3.5), as the
// token's "algorithm" field carries it.
type Algorithm string

// The algorithms a token may name. Today's My Number Card has RSA-2048 keys
// and signs PKCS#1 v1.5 (RS256); the next-generation card is expected to
// use ECDSA, which is why the algorithm is a parameter and not a constant.
const (
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
)

// Hash is the hash function the algorithm signs with, which is also the
// hash applied to the origin and the nonce.
func (a Algorithm) Hash() (crypto.Hash, error) {
	switch a {
	case RS256, PS256, ES256:
		return crypto.SHA256, nil
	case RS384, PS384, ES384:
		return crypto.SHA384, nil
	case RS512, PS512, ES512:
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("%w: algorithm %q", ErrTokenFormat, string(a))
}

// Token is a Web eID authentication token, in its JSON wire form.
type Token struct {
	// UnverifiedCertificate is the base64 DER of the authentication
	// certificate. Nothing about it is trusted until a Validator checks it.
	UnverifiedCertificate string    `json:"unverifiedCertificate"`
	Algorithm             Algorithm `json:"algorithm"`
	// Signature is the base64 signature over hash(origin) ‖ hash(nonce).
	Signature  string `json:"signature"`
	Format     string `json:"format"`
	AppVersion string `json:"appVersion"`
}

// ParseToken decodes a token from JSON, refusing oversized input and
// unknown or missing fields' shapes. It checks the form only; Validate
// decides whether to believe it.
func ParseToken(b []byte) (*Token, error) {
	if len(b) > maxTokenBytes {
		return nil, fmt.Errorf("%w: %d bytes is more than a token can be", ErrTokenFormat, len(b))
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenFormat, err)
	}
	return &t, nil
}

// SignedValue is what a token's signature covers: hash(origin) ‖
// hash(nonce), with h the algorithm's hash, each over the UTF-8 bytes of
// the string as given (the nonce is hashed in its base64 form, not
// decoded).
func SignedValue(h crypto.Hash, origin, nonce string) []byte {
	ho := h.New()
	ho.Write([]byte(origin))
	hn := h.New()
	hn.Write([]byte(nonce))
	return hn.Sum(ho.Sum(nil))
}

// CheckNonce checks that a challenge nonce is base64 (standard or URL
// alphabet, padded or not) carrying at least MinNonceBytes of randomness.
// A client refuses to sign a shorter one: a short nonce lets a server
// collect signatures it could replay.
func CheckNonce(nonce string) error {
	if nonce == "" {
		return fmt.Errorf("%w: empty", ErrNonce)
	}
	if len(nonce) > maxNonceLen {
		return fmt.Errorf("%w: %d characters is too long", ErrNonce, len(nonce))
	}
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.Strict().DecodeString(nonce); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%w: not base64", ErrNonce)
	}
	if len(raw) < MinNonceBytes {
		return fmt.Errorf("%w: %d bits, at least %d needed", ErrNonce, len(raw)*8, MinNonceBytes*8)
	}
	return nil
}

// CanonicalOrigin checks that origin is the ASCII serialization of a web
// origin — scheme://host[:port], nothing else — and returns it in canonical
// form (lower-case scheme and host, default port dropped). The scheme must
// be https; http is accepted only for a loopback host, for development.
func CanonicalOrigin(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("%w: %q is not scheme://host[:port]", ErrOrigin, origin)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(origin, "/") {
		return "", fmt.Errorf("%w: %q has more than scheme, host and port", ErrOrigin, origin)
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if !loopbackHost(host) {
			return "", fmt.Errorf("%w: %q: only https origins (http only on loopback)", ErrOrigin, origin)
		}
		if port == "80" {
			port = ""
		}
	default:
		return "", fmt.Errorf("%w: scheme %q", ErrOrigin, scheme)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Authenticator is a card that signs a challenge with its authentication
// key: the key signs the DigestInfo of SHA-256(challenge) with PKCS#1 v1.5
// and the certificate of that key comes back. *mynakit.Card is one.
type Authenticator interface {
	Authenticate(ctx context.Context, challenge []byte) (sig []byte, cert *x509.Certificate, err error)
}

// Authenticate makes a token for origin and nonce with the card's
// authentication key. origin must be the origin the caller verified (the
// browser's, or the bridge's check of the calling page), never one taken
// from the request body; it is canonicalised first. The nonce must carry at
// least 256 bits.
func Authenticate(ctx context.Context, card Authenticator, origin, nonce string) (*Token, error) {
	origin, err := CanonicalOrigin(origin)
	if err != nil {
		return nil, err
	}
	if err := CheckNonce(nonce); err != nil {
		return nil, err
	}
	// The card signs SHA-256 of what it is given with PKCS#1 v1.5: RS256
	// over the signed value.
	sig, cert, err := card.Authenticate(ctx, SignedValue(crypto.SHA256, origin, nonce))
	if err != nil {
		return nil, err
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("webeid: the card's authentication key is %T; this card signs RS256 only", cert.PublicKey)
	}
	return &Token{
		UnverifiedCertificate: base64.StdEncoding.EncodeToString(cert.Raw),
		Algorithm:             RS256,
		Signature:             base64.StdEncoding.EncodeToString(sig),
		Format:                Format,
		AppVersion:            AppVersion,
	}, nil
}

// verifySignature checks sig by pub under alg over the signed value.
func verifySignature(alg Algorithm, pub crypto.PublicKey, value, sig []byte) error {
	h, err := alg.Hash()
	if err != nil {
		return err
	}
	hh := h.New()
	hh.Write(value)
	digest := hh.Sum(nil)
	switch alg {
	case RS256, RS384, RS512, PS256, PS384, PS512:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %s with a %T key", ErrSignature, alg, pub)
		}
		if strings.HasPrefix(string(alg), "PS") {
			err = rsa.VerifyPSS(k, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			err = rsa.VerifyPKCS1v15(k, h, digest, sig)
		}
	case ES256, ES384, ES512:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %s with a %T key", ErrSignature, alg, pub)
		}
		// JWS ECDSA signatures are r ‖ s, each the curve's size.
		n := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*n {
			return fmt.Errorf("%w: ECDSA signature of %d bytes, want %d", ErrSignature, len(sig), 2*n)
		}
		if !ecdsaVerifyRS(k, digest, sig[:n], sig[n:]) {
			err = errors.New("ECDSA verification failed")
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}
