package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"
)

// CertOptions says how to check one JPKI certificate.
type CertOptions struct {
	// Name is the check's name, e.g. CheckAuthCert.
	Name CheckName
	// At is the time the certificate is judged at: now for a card read, now
	// or a trusted timestamp's time for a signature (never a time the
	// signer wrote). A certificate past its notAfter at At passes marked
	// Expired; one not yet valid at At fails.
	At time.Time
	// Now is the wall-clock time the CRL's freshness is judged at (zero:
	// time.Now()).
	Now time.Time
	// RevokedFails makes a revocation at or before At a failure (for
	// signatures: a revoked key may have signed after it was compromised).
	// Otherwise a revoked certificate passes marked Expired, so a card
	// whose certificate was revoked is never plain genuine.
	RevokedFails bool
	// NonRepudiation requires the contentCommitment key usage (the signing
	// certificate, docs/card.md §5.2); the signing role requires it anyway.
	NonRepudiation bool
	// Role is the role of root the certificate must chain to (zero: the
	// role CertRoleFor(Name) names, or the signing role with
	// NonRepudiation). A root of another role fails the certificate; with
	// no role at all the check is unknown.
	Role CertRole
	// CRL, when set, is checked for the certificate's serial.
	CRL *x509.RevocationList
}

// VerifyCertificate checks cert against the store's roots: issuer found by
// authority key identifier and signature (never by name), validity of the
// certificate and of the root at opts.At, key usage, and revocation when a
// CRL is given. A certificate with no anchor in the store is Unknown; one
// that an anchor's key does not verify is Fail.
func (s *Store) VerifyCertificate(cert *x509.Certificate, opts CertOptions) Check {
	c := Check{Name: opts.Name}
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	role := opts.Role
	if role == CertRoleUnknown {
		role = CertRoleFor(opts.Name)
	}
	if role == CertRoleUnknown && opts.NonRepudiation {
		role = CertRoleSign
	}
	if role == CertRoleUnknown {
		c.Result, c.Detail = Unknown, "no certificate role given: an anchor verifies only the certificates of its own role"
		return c
	}
	root, keyMatched, ok := s.issuerOf(cert)
	if ok && root.Role != role {
		c = root.Anchor.Rests(c)
		if root.Role == CertRoleUnknown {
			c.Result, c.Detail = Unknown, "issued by an anchor whose subject names no role (neither user authentication nor digital signature)"
			return c
		}
		c.Result, c.Detail = Fail, fmt.Sprintf("issued by a %s root, where a %s root is required", root.Role, role)
		return c
	}
	if !ok {
		if len(keyMatched) > 0 {
			c = keyMatched[0].Anchor.Rests(c)
			c.Result = Fail
			c.Detail = "signature does not verify under the anchor its authority key identifier names"
			return c
		}
		c.Result = Unknown
		c.Detail = fmt.Sprintf("no trust anchor for issuer key id %s (%s)", hexOrNone(cert.AuthorityKeyId), cert.Issuer)
		return c
	}
	c = root.Anchor.Rests(c)
	fail := func(format string, args ...any) Check {
		c.Result, c.Detail = Fail, fmt.Sprintf(format, args...)
		return c
	}
	var expired []string
	if at.Before(cert.NotBefore) {
		return fail("certificate not yet valid at %s (valid %s to %s)", at.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if at.After(cert.NotAfter) {
		expired = append(expired, "expired on "+cert.NotAfter.UTC().Format("2006-01-02"))
	}
	if at.After(root.Cert.NotAfter) {
		expired = append(expired, "its anchor expired on "+root.Cert.NotAfter.UTC().Format("2006-01-02"))
	}
	if cert.NotBefore.Before(root.Cert.NotBefore) || cert.NotBefore.After(root.Cert.NotAfter) {
		return fail("certificate issued (%s) outside its anchor's validity", cert.NotBefore.UTC().Format("2006-01-02"))
	}
	if !root.Cert.IsCA || root.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fail("anchor is not a CA allowed to sign certificates")
	}
	if role == CertRoleAuth && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fail("user-authentication certificate lacks the digitalSignature key usage")
	}
	if (role == CertRoleSign || opts.NonRepudiation) && cert.KeyUsage&x509.KeyUsageContentCommitment == 0 {
		return fail("signing certificate lacks the nonRepudiation key usage")
	}
	if cert.IsCA {
		return fail("end-entity certificate claims to be a CA")
	}
	if opts.CRL != nil {
		if err := opts.CRL.CheckSignatureFrom(root.Cert); err != nil {
			c.Result, c.Detail = Unknown, "CRL not signed by the certificate's anchor: "+err.Error()
			return c
		}
		now := opts.Now
		if now.IsZero() {
			now = time.Now()
		}
		if why := crlWindow(opts.CRL, now); why != "" {
			c.Result, c.Detail = Unknown, why
			return c
		}
		if why := crlScope(opts.CRL, cert); why != "" {
			c.Result, c.Detail = Unknown, why
			return c
		}
		for _, e := range opts.CRL.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) == 0 && !e.RevocationTime.After(at) {
				if opts.RevokedFails {
					return fail("revoked on %s", e.RevocationTime.UTC().Format(time.RFC3339))
				}
				expired = append(expired, "revoked on "+e.RevocationTime.UTC().Format("2006-01-02"))
				c.Revoked = true
			}
		}
	}
	c.Result = Pass
	c.Detail = fmt.Sprintf("serial %X, valid to %s", cert.SerialNumber, cert.NotAfter.UTC().Format("2006-01-02"))
	if len(expired) > 0 {
		c.Expired = true
		c.Detail += "; " + strings.Join(expired, ", ")
	}
	return c
}

// crlWindow says why a CRL cannot speak for now: it is not yet in force
// (thisUpdate after now) or stale (nextUpdate before now). "" when it can.
func crlWindow(crl *x509.RevocationList, now time.Time) string {
	if now.Before(crl.ThisUpdate) {
		return fmt.Sprintf("CRL issued in the future (thisUpdate %s)", crl.ThisUpdate.UTC().Format(time.RFC3339))
	}
	if !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate) {
		return fmt.Sprintf("CRL is stale: its nextUpdate %s has passed; fetch a current one", crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	if crl.NextUpdate.IsZero() {
		return "CRL has no nextUpdate, so its freshness cannot be judged"
	}
	return ""
}

// issuerOf finds the root whose key verifies cert's signature (never by
// name): first among the roots cert's authority key identifier names
// (keyMatched, returned for a failure's report), then among the others,
// for certificates without (or with wrong) key identifiers.
func (s *Store) issuerOf(cert *x509.Certificate) (root Root, keyMatched []Root, ok bool) {
	var others []Root
	for _, r := range s.roots {
		if len(cert.AuthorityKeyId) > 0 && bytes.Equal(cert.AuthorityKeyId, r.Cert.SubjectKeyId) {
			keyMatched = append(keyMatched, r)
		} else {
			others = append(others, r)
		}
	}
	for _, r := range append(keyMatched[:len(keyMatched):len(keyMatched)], others...) {
		if cert.CheckSignatureFrom(r.Cert) == nil {
			return r, keyMatched, true
		}
	}
	return Root{}, keyMatched, false
}

func hexOrNone(b []byte) string {
	if len(b) == 0 {
		return "(none)"
	}
	return hex.EncodeToString(b)
}

// LoadCRL reads a CRL in DER or PEM.
func LoadCRL(path string) (*x509.RevocationList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(b); block != nil {
		b = block.Bytes
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("CRL %s: %w", path, err)
	}
	return crl, nil
}

// CompareCardCA checks a CA certificate read from the card (EF 000B or
// 0002). The card's copy is never trusted itself: it must be byte for byte
// the anchor that issued leaf (when leaf is given and an anchor verifies
// it), or else one of the store's anchors. A copy that differs from the
// anchor it claims to be — same key identifier, same key, or same serial
// and subject — fails; a copy that resembles no anchor is unknown.
func (s *Store) CompareCardCA(name CheckName, ca, leaf *x509.Certificate) Check {
	c := Check{Name: name}
	role := CertRoleFor(name)
	if role == CertRoleUnknown {
		c.Result, c.Detail = Unknown, "no certificate role given for the card's CA certificate"
		return c
	}
	if leaf != nil {
		if root, _, ok := s.issuerOf(leaf); ok {
			c = root.Anchor.Rests(c)
			if root.Role != role {
				c.Result, c.Detail = Fail, fmt.Sprintf("the certificate was issued by a %s root, where a %s root is required", root.Role, role)
			} else if bytes.Equal(ca.Raw, root.Cert.Raw) {
				c.Result, c.Detail = Pass, "the card's CA certificate is the anchor that issued its certificate"
			} else {
				c.Result, c.Detail = Fail, "the card's CA certificate differs from the anchor that issued its certificate"
			}
			return c
		}
	}
	for _, r := range s.roots {
		if bytes.Equal(ca.Raw, r.Cert.Raw) {
			c = r.Anchor.Rests(c)
			if r.Role != role {
				c.Result, c.Detail = Fail, fmt.Sprintf("the card's CA certificate is the %s root, where the %s root belongs", r.Role, role)
				return c
			}
			c.Result, c.Detail = Pass, "the card's CA certificate is a trust anchor of its role"
			return c
		}
	}
	for _, r := range s.roots {
		sameKID := len(ca.SubjectKeyId) > 0 && bytes.Equal(ca.SubjectKeyId, r.Cert.SubjectKeyId)
		sameKey := bytes.Equal(ca.RawSubjectPublicKeyInfo, r.Cert.RawSubjectPublicKeyInfo)
		sameID := ca.SerialNumber != nil && ca.SerialNumber.Cmp(r.Cert.SerialNumber) == 0 && bytes.Equal(ca.RawSubject, r.Cert.RawSubject)
		if sameKID || sameKey || sameID {
			c = r.Anchor.Rests(c)
			c.Result, c.Detail = Fail, "the card's CA certificate differs from the anchor it names"
			return c
		}
	}
	c.Result = Unknown
	c.Detail = fmt.Sprintf("no trust anchor for the card's CA certificate (key id %s, %s)", hexOrNone(ca.SubjectKeyId), ca.Subject)
	return c
}
