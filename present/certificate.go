package present

import (
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/trust"
)

// Certificate is the summary of a certificate in every JSON output.
type Certificate struct {
	Serial    string `json:"serial"`
	Subject   string `json:"subject"`
	Issuer    string `json:"issuer"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
}

// CertificateOf is a certificate's summary: the serial in upper-case hex,
// the names in RFC 2253 form and the validity in UTC RFC 3339.
func CertificateOf(c *x509.Certificate) Certificate {
	return Certificate{
		Serial:    fmt.Sprintf("%X", c.SerialNumber),
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:  c.NotAfter.UTC().Format(time.RFC3339),
	}
}

// CertificateCheck is a card certificate as it was judged: the summary,
// the key identifiers, the verdict with its checks and, for the signing
// certificate, the holder attributes it carries. The members are in
// name order.
type CertificateCheck struct {
	Attributes     *Holder      `json:"attributes,omitempty"`
	AuthorityKeyID string       `json:"authority_key_id"`
	Certificate    Certificate  `json:"certificate"`
	SubjectKeyID   string       `json:"subject_key_id"`
	Verification   Verification `json:"verification"`
}

// Verification is a verdict with the checks it rests on.
type Verification struct {
	Checks  []trust.Check `json:"checks"`
	Verdict trust.Verdict `json:"verdict"`
}

// Holder is the holder attributes of a signing certificate (the birth
// date as YYYY-MM-DD, absent when the certificate has none).
type Holder struct {
	Address             string `json:"address"`
	AddressSubstitution string `json:"address_substitution"`
	BirthDate           string `json:"birth_date,omitempty"`
	Name                string `json:"name"`
	NameSubstitution    string `json:"name_substitution"`
	Sex                 string `json:"sex"`
}

// CertificateCheckOf is the JSON of cert judged with verdict and checks;
// attrs may be nil.
func CertificateCheckOf(cert *x509.Certificate, verdict trust.Verdict, checks []trust.Check, attrs *jpki.Attributes) CertificateCheck {
	out := CertificateCheck{
		AuthorityKeyID: hex.EncodeToString(cert.AuthorityKeyId),
		Certificate:    CertificateOf(cert),
		SubjectKeyID:   hex.EncodeToString(cert.SubjectKeyId),
		Verification:   Verification{Checks: checks, Verdict: verdict},
	}
	if at := attrs; at != nil {
		h := &Holder{Name: at.Name, Address: at.Address, Sex: at.Sex, NameSubstitution: at.NameSubstitution, AddressSubstitution: at.AddressSubstitution}
		if !at.BirthDate.IsZero() {
			h.BirthDate = at.BirthDate.String()
		}
		out.Attributes = h
	}
	return out
}

// Signature is a detached CMS signature as it was judged. The times are
// UTC RFC 3339; a claimed signing time is what the signer wrote, never
// trusted. The members are in name order.
type Signature struct {
	Checks             []trust.Check `json:"checks"`
	ClaimedSigningTime string        `json:"claimed_signing_time,omitempty"`
	JudgedAt           string        `json:"judged_at"`
	Signer             Certificate   `json:"signer"`
	Timestamp          string        `json:"timestamp,omitempty"`
	TimestampIgnored   string        `json:"timestamp_ignored,omitempty"`
	Verdict            trust.Verdict `json:"verdict"`
	Warnings           []string      `json:"warnings,omitempty"`
}

// SignatureOf is the JSON of a verified signature.
func SignatureOf(res *jpki.CMSResult) Signature {
	out := Signature{
		Checks:           res.Checks,
		JudgedAt:         res.JudgedAt.UTC().Format(time.RFC3339),
		Signer:           CertificateOf(res.Signer),
		TimestampIgnored: res.TimestampNote,
		Verdict:          res.Verdict,
		Warnings:         res.Warnings,
	}
	if !res.SigningTime.IsZero() {
		out.ClaimedSigningTime = res.SigningTime.UTC().Format(time.RFC3339)
	}
	if !res.Timestamp.IsZero() {
		out.Timestamp = res.Timestamp.UTC().Format(time.RFC3339)
	}
	return out
}

// HolderName is the holder's name a signing certificate carries in its
// JPKI attributes, or "" when it carries none.
func HolderName(c *x509.Certificate) string {
	if at, err := jpki.ParseAttributes(c); err == nil {
		return at.Name
	}
	return ""
}
