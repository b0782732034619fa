package webeid

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/mynakit/mynakit/trust"
)

// Errors a validation fails with. Each failure wraps exactly one of them, so
// a server can tell a user "try again" (nonce) from "this card is not
// accepted" (certificate) with errors.Is.
var (
	ErrTokenFormat  = errors.New("webeid: malformed token")
	ErrNonce        = errors.New("webeid: unacceptable challenge nonce")
	ErrNonceUnknown = errors.New("webeid: nonce was not issued here, or was already used")
	ErrNonceExpired = errors.New("webeid: nonce expired")
	ErrOrigin       = errors.New("webeid: unacceptable origin")
	ErrSignature    = errors.New("webeid: signature does not verify over the origin and nonce")
	ErrCertificate  = errors.New("webeid: certificate not accepted")
	ErrRevoked      = errors.New("webeid: certificate revoked")
)

// RevocationStatus says what is known of the certificate's revocation.
type RevocationStatus string

const (
	// RevocationNotChecked: no RevocationChecker was configured. J-LIS
	// gives revocation information only to registered verifiers, so this is
	// the default, and a server must decide whether it may rely on a login
	// without it.
	RevocationNotChecked RevocationStatus = "not-checked"
	// RevocationGood: the checker says the certificate is not revoked.
	RevocationGood RevocationStatus = "good"
)

// RevocationChecker looks up a certificate's revocation (a J-LIS-registered
// verifier's OCSP or CRL service). It returns nil when the certificate is
// good, an error wrapping ErrRevoked when it is revoked, and any other error
// when it cannot tell, which fails the validation.
type RevocationChecker interface {
	CheckRevocation(ctx context.Context, cert *x509.Certificate, now time.Time) error
}

// NonceStore issues challenge nonces and takes each back exactly once.
type NonceStore interface {
	// Issue returns a fresh nonce of at least MinNonceBytes of randomness.
	Issue(ctx context.Context) (string, error)
	// Consume removes nonce from the store: nil if it was issued and has
	// not expired; ErrNonceUnknown if it never was or was already
	// consumed; ErrNonceExpired if it expired. A nonce is consumed even when
	// the rest of the validation then fails.
	Consume(ctx context.Context, nonce string) error
}

// Identity is what a validated token says about the person: the
// authentication certificate's subject, in typed fields. The JPKI
// user-authentication certificate deliberately carries no name or address
// (docs/card.md §5.2); its serial number identifies the certificate.
type Identity struct {
	Certificate  *x509.Certificate
	SerialNumber *big.Int
	Subject      string
	Issuer       string
	NotBefore    time.Time
	NotAfter     time.Time
	// Anchor names the J-LIS authentication anchor the certificate chains
	// to; Production is false for test anchors (the JPKI-TEST hierarchy or
	// the simulator's), which a production server must refuse.
	Anchor     string
	Production bool
	// Revocation is RevocationNotChecked unless a checker answered.
	Revocation RevocationStatus
	Origin     string
}

// Validator is a relying party's check of tokens. Origin and Trust are
// required.
type Validator struct {
	// Origin is the relying party's own origin (https://portal.example.jp).
	Origin string
	// Trust holds the J-LIS anchors; only the authentication role is used.
	Trust *trust.Store
	// Nonces issues and consumes challenge nonces; nil uses a
	// MemoryNonces with the default lifetime, created on first use.
	Nonces NonceStore
	// Revocation, if set, is asked about every certificate.
	Revocation RevocationChecker
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// AllowTestAnchors accepts certificates under test anchors. Off by
	// default: a production server must never accept them.
	AllowTestAnchors bool

	defaultNonces *MemoryNonces
}

func (v *Validator) nonces() NonceStore {
	if v.Nonces != nil {
		return v.Nonces
	}
	if v.defaultNonces == nil {
		v.defaultNonces = NewMemoryNonces(0)
	}
	return v.defaultNonces
}

// IssueNonce returns a fresh challenge nonce from the validator's store,
// for the login page to pass to the card.
func (v *Validator) IssueNonce(ctx context.Context) (string, error) {
	return v.nonces().Issue(ctx)
}

// Validate checks tok against the nonce this session issued: the nonce is
// consumed (single use, unexpired), the certificate chains to a J-LIS
// authentication anchor, is valid now, is an authentication certificate
// (digitalSignature, not a signing certificate), and its key signed
// hash(Origin) ‖ hash(nonce). Every failure is an error wrapping one of the
// package's Err values.
func (v *Validator) Validate(ctx context.Context, tok *Token, nonce string) (*Identity, error) {
	if v.Trust == nil {
		return nil, errors.New("webeid: Validator.Trust is not set")
	}
	origin, err := CanonicalOrigin(v.Origin)
	if err != nil {
		return nil, fmt.Errorf("webeid: Validator.Origin: %w", err)
	}
	// The nonce goes first and is spent whatever follows: a token that
	// fails for any reason cannot be retried with the same nonce.
	if err := v.nonces().Consume(ctx, nonce); err != nil {
		return nil, err
	}
	if tok == nil || tok.Format != Format {
		got := ""
		if tok != nil {
			got = tok.Format
		}
		return nil, fmt.Errorf("%w: format %q, want %q", ErrTokenFormat, got, Format)
	}
	if _, err := tok.Algorithm.Hash(); err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(tok.UnverifiedCertificate)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate is not base64", ErrTokenFormat)
	}
	sig, err := base64.StdEncoding.DecodeString(tok.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64", ErrTokenFormat)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCertificate, err)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if err := v.checkCertificate(cert, now); err != nil {
		return nil, err
	}
	h, _ := tok.Algorithm.Hash()
	if err := verifySignature(tok.Algorithm, cert.PublicKey, SignedValue(h, origin, nonce), sig); err != nil {
		return nil, err
	}
	check := v.Trust.VerifyCertificate(cert, trust.CertOptions{Name: trust.CheckAuthCert, At: now, Now: now})
	id := &Identity{
		Certificate:  cert,
		SerialNumber: cert.SerialNumber,
		Subject:      cert.Subject.String(),
		Issuer:       cert.Issuer.String(),
		NotBefore:    cert.NotBefore,
		NotAfter:     cert.NotAfter,
		Anchor:       check.Anchor,
		Production:   check.Production,
		Revocation:   RevocationNotChecked,
		Origin:       origin,
	}
	if v.Revocation != nil {
		if err := v.Revocation.CheckRevocation(ctx, cert, now); err != nil {
			if errors.Is(err, ErrRevoked) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: revocation could not be checked: %v", ErrCertificate, err)
		}
		id.Revocation = RevocationGood
	}
	return id, nil
}

// checkCertificate accepts only a current JPKI authentication certificate
// under an authentication anchor of the store: the store checks a root's
// role against the check's name, so a certificate under a signing root
// fails here.
func (v *Validator) checkCertificate(cert *x509.Certificate, now time.Time) error {
	// A signing certificate (nonRepudiation) is never a login credential:
	// its key's signatures carry legal weight (docs/card.md §5.2).
	if cert.KeyUsage&x509.KeyUsageContentCommitment != 0 {
		return fmt.Errorf("%w: a signing certificate (nonRepudiation) cannot log in", ErrCertificate)
	}
	check := v.Trust.VerifyCertificate(cert, trust.CertOptions{Name: trust.CheckAuthCert, At: now, Now: now})
	switch {
	case check.Result != trust.Pass:
		return fmt.Errorf("%w: %s", ErrCertificate, check.Detail)
	case check.Expired:
		return fmt.Errorf("%w: %s", ErrCertificate, check.Detail)
	case !check.Production && !v.AllowTestAnchors:
		return fmt.Errorf("%w: it chains to a test anchor (%s)", ErrCertificate, check.Anchor)
	}
	return nil
}

func ecdsaVerifyRS(k *ecdsa.PublicKey, digest, r, s []byte) bool {
	return ecdsa.Verify(k, digest, new(big.Int).SetBytes(r), new(big.Int).SetBytes(s))
}
