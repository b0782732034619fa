// Package trust holds the J-LIS trust anchors — the JPKI X.509 roots of
// every generation and the RSA keys that sign card-verifiable certificates —
// and turns verification checks into a verdict that names what it rests on.
//
// All generations of a JPKI root share one subject DN (docs/card.md §5.3),
// so issuers are found by key identifier and by signature, never by name.
// Test anchors (the JPKI-TEST hierarchy, the simulator's) are never trusted
// by default: a caller adds them explicitly.
package trust

import (
	"crypto/rsa"
	"crypto/x509"
	"strings"
)

// Result of one check.
type Result string

const (
	Pass    Result = "pass"
	Fail    Result = "fail"
	Unknown Result = "unknown" // the check could not be made (no anchor, no data)
)

// Check is one verification step with the anchor it rests on.
type Check struct {
	Name   CheckName `json:"name"`
	Result Result    `json:"result"`
	// Anchor names the trust anchor the check rests on ("" when it rests on
	// none, e.g. a comparison of two copies).
	Anchor string `json:"anchor,omitempty"`
	// Production is true when Anchor is a J-LIS production anchor embedded
	// in mynakit; false for test anchors and anchors added from a directory.
	Production bool `json:"production,omitempty"`
	// Expired marks a check that passed on data that has expired or was
	// revoked (a certificate past its notAfter, a card past its expiry).
	Expired bool `json:"expired,omitempty"`
	// Revoked marks a certificate a CRL lists as revoked (Expired is set
	// too, so the verdict is never plain genuine).
	Revoked bool   `json:"revoked,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// Verdict over a set of checks.
type Verdict string

const (
	Genuine Verdict = "genuine"
	// GenuineExpired: every check passed, but the card or a certificate has
	// expired or was revoked. Never shown as plain genuine.
	GenuineExpired Verdict = "genuine-expired"
	NotGenuine     Verdict = "not-genuine"
	Undecided      Verdict = "unknown"
)

// Decide is the verdict over checks: any Fail is NotGenuine; otherwise any
// Unknown, or no check at all, is Undecided; all Pass is Genuine, or
// GenuineExpired when a passing check is marked Expired.
func Decide(checks []Check) Verdict {
	if len(checks) == 0 {
		return Undecided
	}
	v := Genuine
	expired := false
	for _, c := range checks {
		switch c.Result {
		case Fail:
			return NotGenuine
		case Pass:
			expired = expired || c.Expired
		default:
			v = Undecided
		}
	}
	if v == Genuine && expired {
		return GenuineExpired
	}
	return v
}

// Anchor describes what a verdict rests on.
type Anchor struct {
	Name string // e.g. "J-LIS JPKI signing CA gen 3 (2023, embedded)"
	// Production is true for J-LIS production anchors; test anchors (the
	// JPKI-TEST hierarchy, the simulator's) are false.
	Production bool
}

// Rests marks ch as resting on a.
func (a Anchor) Rests(ch Check) Check {
	ch.Anchor, ch.Production = a.Name, a.Production
	return ch
}

// CVRole is what a card-verifiable-certificate CA key may sign (card
// reference §5.4): one key per role, and a key verifies nothing outside its
// role, so a text-applet certificate re-issued by the card-face CA key or by
// the card-level root fails.
type CVRole int

const (
	RoleUnknown   CVRole = iota
	RoleCardChain        // the card-level (MF) chain root: GET DATA 00F8
	RoleSurface          // signs 券面事項確認AP EF 0004
	RoleText             // signs 券面事項入力補助AP EF 0004
)

func (r CVRole) String() string {
	switch r {
	case RoleCardChain:
		return "card-level (MF) chain"
	case RoleSurface:
		return "券面事項確認AP (card surface)"
	case RoleText:
		return "券面事項入力補助AP (text input assist)"
	}
	return "unknown role"
}

// ParseCVRole reads the role of a CV CA key file entry: the descriptions
// jlis-cv-ca-keys.json uses, or the short names "card-chain", "surface",
// "text".
func ParseCVRole(s string) CVRole {
	l := strings.ToLower(s)
	switch {
	case l == "card-chain" || strings.Contains(l, "card-level") || strings.Contains(l, "(mf)"):
		return RoleCardChain
	case l == "surface" || strings.Contains(s, "券面事項確認") || strings.Contains(l, "card surface"):
		return RoleSurface
	case l == "text" || strings.Contains(s, "入力補助") || strings.Contains(l, "text input"):
		return RoleText
	}
	return RoleUnknown
}

// CVKey is a key that signs card-verifiable certificates.
type CVKey struct {
	ID     [16]byte
	Public *rsa.PublicKey
	Role   CVRole
	Anchor Anchor
}

// CertRole is what a JPKI X.509 root may issue (docs/card.md §5.2,
// §5.3): the user-authentication root issues only 利用者証明用 certificates,
// the signing root only 署名用 ones. A root verifies nothing outside its
// role, so a signing certificate served from the authentication
// certificate's EF fails, as does a root of one role stored as the card's
// CA certificate of the other.
type CertRole int

const (
	CertRoleUnknown CertRole = iota
	CertRoleAuth             // 利用者証明用: OU=JPKI for user authentication
	CertRoleSign             // 署名用: OU=JPKI for digital signature
)

func (r CertRole) String() string {
	switch r {
	case CertRoleAuth:
		return "user-authentication (利用者証明用)"
	case CertRoleSign:
		return "signing (署名用)"
	}
	return "unknown role"
}

// CertRoleOf reads a JPKI root's role from its subject's organisational
// units, "JPKI for user authentication" or "JPKI for digital signature"
// (the J-LIS DN pattern, docs/card.md §5.2, which the JPKI-TEST and the
// simulator's roots follow). A subject naming both or neither has no role.
func CertRoleOf(cert *x509.Certificate) CertRole {
	var auth, sign bool
	for _, ou := range cert.Subject.OrganizationalUnit {
		switch strings.ToLower(strings.TrimSpace(ou)) {
		case "jpki for user authentication":
			auth = true
		case "jpki for digital signature":
			sign = true
		}
	}
	switch {
	case auth && !sign:
		return CertRoleAuth
	case sign && !auth:
		return CertRoleSign
	}
	return CertRoleUnknown
}

// CertRoleFor is the role a check of the given name requires: the
// authentication certificate and its CA the authentication role, the
// signing certificate and its CA (and a CMS signer) the signing role.
func CertRoleFor(name CheckName) CertRole {
	switch name {
	case CheckAuthCert, CheckAuthCACert:
		return CertRoleAuth
	case CheckSignCert, CheckSignCACert, CheckCMSSignature:
		return CertRoleSign
	}
	return CertRoleUnknown
}

// Root is an X.509 trust anchor.
type Root struct {
	Cert   *x509.Certificate
	Anchor Anchor
	// Role is what the root may issue; a root of unknown role verifies
	// nothing.
	Role CertRole
}

// Store is a set of anchors. The zero Store is empty and usable.
type Store struct {
	roots  []Root
	cvKeys []CVKey
}

// Clone returns a copy that can be extended without changing s.
func (s *Store) Clone() *Store {
	return &Store{roots: append([]Root(nil), s.roots...), cvKeys: append([]CVKey(nil), s.cvKeys...)}
}

// Roots lists the X.509 anchors.
func (s *Store) Roots() []Root { return append([]Root(nil), s.roots...) }

// CVKeys lists the CV CA keys.
func (s *Store) CVKeys() []CVKey { return append([]CVKey(nil), s.cvKeys...) }

// CVKey finds the CV CA key with the given 16-byte key ID (all 16 bytes
// compared, docs/card.md §2.7).
func (s *Store) CVKey(id []byte) (CVKey, bool) {
	for _, k := range s.cvKeys {
		if string(k.ID[:]) == string(id) {
			return k, true
		}
	}
	return CVKey{}, false
}

// AddRoot adds an X.509 anchor whose role its subject names (CertRoleOf).
func (s *Store) AddRoot(cert *x509.Certificate, a Anchor) {
	s.AddRootRole(cert, a, CertRoleOf(cert))
}

// AddRootRole adds an X.509 anchor of the given role. A certificate
// already in the store is not added again (the first role wins, so
// embedded anchors cannot be re-roled).
func (s *Store) AddRootRole(cert *x509.Certificate, a Anchor, role CertRole) {
	for _, r := range s.roots {
		if r.Cert.Equal(cert) {
			return
		}
	}
	s.roots = append(s.roots, Root{Cert: cert, Anchor: a, Role: role})
}

// AddCVKey adds a CV CA key; a later key with the same ID replaces nothing
// (the first one added wins, so embedded anchors cannot be shadowed).
func (s *Store) AddCVKey(k CVKey) {
	if _, ok := s.CVKey(k.ID[:]); ok {
		return
	}
	s.cvKeys = append(s.cvKeys, k)
}
