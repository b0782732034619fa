package pin

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/mynakit/mynakit/myna"
)

// Secret holds one secret's bytes. It never prints them: fmt verbs, errors
// and logs all show [REDACTED]. Wipe zeroes the bytes.
type Secret struct {
	b []byte
}

// NewSecret copies b into a Secret; the caller should wipe its own copy.
func NewSecret(b []byte) *Secret { return &Secret{b: append([]byte(nil), b...)} }

// Bytes returns the secret for sending to the card. Do not keep the slice.
func (s *Secret) Bytes() []byte { return s.b }

// Wipe zeroes the secret.
func (s *Secret) Wipe() {
	if s == nil {
		return
	}
	for i := range s.b {
		s.b[i] = 0
	}
	s.b = nil
}

// String redacts.
func (s *Secret) String() string { return "[REDACTED]" }

// GoString redacts.
func (s *Secret) GoString() string { return "[REDACTED]" }

// Format redacts for every verb.
func (s *Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// Wipe zeroes a byte slice in place (for callers' copies of secrets).
func Wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// Normalize checks a secret of the given kind locally, before anything is
// sent to the card, and returns it in the form the card compares (card
// reference §3.1): short PIN = 4 digits; signing password = 6-16 of A-Z and
// 0-9, lower case upper-cased; 照合番号A = the 12-digit My Number with a valid
// check digit; 照合番号B = 14 digits, or birth date, expiry year and security
// code (see DeriveCodeB); birth key = 6 digits. Surrounding spaces are
// dropped. The returned slice is new; the caller wipes in.
func Normalize(kind myna.Secret, in []byte) ([]byte, error) {
	// Work on a private byte copy, never a heap string, so that the caller
	// can wipe every copy of the secret (a Go string cannot be zeroed).
	out := append([]byte(nil), bytes.TrimSpace(in)...)
	fail := func(reason string) ([]byte, error) {
		Wipe(out)
		return nil, &InvalidSecretError{Kind: kind, Reason: reason}
	}
	switch kind {
	case myna.ShortPIN:
		if !digits(out, 4) {
			return fail("must be exactly 4 digits")
		}
	case myna.SignPassword:
		if len(out) < 6 || len(out) > 16 {
			return fail("must be 6 to 16 characters")
		}
		for i, c := range out {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
				out[i] = c
			}
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return fail("may contain only letters A-Z and digits 0-9")
			}
		}
	case myna.CodeA:
		if !digits(out, 12) {
			return fail("must be the 12-digit My Number")
		}
		if !myna.ValidMyNumberBytes(out) {
			return fail("check digit does not match (mistyped My Number?)")
		}
	case myna.CodeB:
		if !digits(out, 14) {
			// The birth-date form goes through time.Parse, which needs a
			// string; that form is derived data, not the code itself.
			code, err := parseCodeBParts(string(out))
			Wipe(out)
			return code, err
		}
		if err := checkCodeB(out); err != nil {
			Wipe(out)
			return nil, err
		}
	case myna.BirthKey:
		if !digits(out, 6) || !validMMDD(out[2:6]) {
			return fail("must be the birth date as era year, month, day (6 digits)")
		}
	default:
		return fail("unknown kind of secret")
	}
	return out, nil
}

// digits reports whether b is exactly n ASCII digits.
func digits(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DeriveCodeB builds 照合番号B (docs/card.md §3.6): the birth date as
// Japanese-era YYMMDD, the Gregorian year of the card's expiry, and the
// 4-digit security code printed on the card.
func DeriveCodeB(birth time.Time, expiryYear int, securityCode string) ([]byte, error) {
	yymmdd, err := myna.EraYYMMDD(birth)
	if err != nil {
		// Not err's text: it names the date.
		if era, _, _ := myna.EraOf(birth); era == myna.EraUnknown {
			return nil, &InvalidSecretError{Kind: myna.CodeB, Reason: "birth date is before the Meiji era"}
		}
		return nil, &InvalidSecretError{Kind: myna.CodeB, Reason: "the birth date's era year does not fit two digits"}
	}
	if expiryYear < 2015 || expiryYear > 2099 {
		return nil, &InvalidSecretError{Kind: myna.CodeB, Reason: "card expiry year must be 2015-2099"}
	}
	if !myna.Digits(securityCode, 4) {
		return nil, &InvalidSecretError{Kind: myna.CodeB, Reason: "security code must be 4 digits"}
	}
	return []byte(fmt.Sprintf("%s%04d%s", yymmdd, expiryYear, securityCode)), nil
}

// parseCodeBParts accepts "YYYY-MM-DD YYYY NNNN" (birth date, expiry year,
// security code; commas or spaces between).
func parseCodeBParts(s string) ([]byte, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '/' })
	bad := &InvalidSecretError{Kind: myna.CodeB, Reason: "give the 14 digits, or birth date (YYYY-MM-DD), card expiry year and security code"}
	if len(f) != 3 {
		return nil, bad
	}
	birth, err := time.Parse("2006-01-02", f[0])
	if err != nil {
		return nil, bad
	}
	if !myna.Digits(f[1], 4) {
		return nil, bad
	}
	year := int(f[1][0]-'0')*1000 + int(f[1][1]-'0')*100 + int(f[1][2]-'0')*10 + int(f[1][3]-'0')
	return DeriveCodeB(birth, year, f[2])
}

func checkCodeB(s []byte) error {
	if !validMMDD(s[2:6]) {
		return &InvalidSecretError{Kind: myna.CodeB, Reason: "digits 3-6 must be the birth month and day"}
	}
	if y := string(s[6:10]); y < "2015" || y > "2099" {
		return &InvalidSecretError{Kind: myna.CodeB, Reason: "digits 7-10 must be the card's expiry year"}
	}
	return nil
}

func validMMDD(s []byte) bool {
	m := int(s[0]-'0')*10 + int(s[1]-'0')
	d := int(s[2]-'0')*10 + int(s[3]-'0')
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}
