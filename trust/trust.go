// Package trust holds the J-LIS trust anchors and turns checks into a
// verdict.
//
// CONTRACT STUB: the signatures below are what jpki, cardap and the CLI code
// against. The trust package owner replaces the bodies and adds the rest.
package trust

import (
	"crypto/rsa"
	"crypto/x509"
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
	Name   string `json:"name"`
	Result Result `json:"result"`
	Anchor string `json:"anchor,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Verdict over a set of checks.
type Verdict string

const (
	Genuine    Verdict = "genuine"
	NotGenuine Verdict = "not-genuine"
	Undecided  Verdict = "unknown"
)

// Decide: any Fail → NotGenuine; else any Unknown (or no checks) → Undecided; else Genuine.
func Decide(checks []Check) Verdict {
	if len(checks) == 0 {
		return Undecided
	}
	v := Genuine
	for _, c := range checks {
		switch c.Result {
		case Fail:
			return NotGenuine
		case Unknown:
			v = Undecided
		}
	}
	return v
}

// Anchor describes what a verdict rests on.
type Anchor struct {
	Name string // e.g. "J-LIS JPKI sign CA 2023 (embedded)"
	// Production is true for J-LIS production anchors; test anchors (the
	// JPKI-TEST hierarchy, the simulator's) are false.
	Production bool
}

// CVKey is a J-LIS key that signs card-verifiable certificates.
type CVKey struct {
	ID     [16]byte
	Public *rsa.PublicKey
	Anchor Anchor
}

// Root is an X.509 trust anchor.
type Root struct {
	Cert   *x509.Certificate
	Anchor Anchor
}

// Store is a set of anchors.
type Store struct {
	roots  []Root
	cvKeys []CVKey
}

// CVKey finds the CV CA key with the given 16-byte key ID.
func (s *Store) CVKey(id []byte) (CVKey, bool) {
	for _, k := range s.cvKeys {
		if string(k.ID[:]) == string(id) {
			return k, true
		}
	}
	return CVKey{}, false
}
