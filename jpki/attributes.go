package jpki

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/myna"
)

// OIDs of the holder attributes in the signing certificate's
// subjectAltName, each an otherName with a UTF8String (docs/card.md §5.2).
var (
	OIDName                = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 1}
	OIDNameSubstitution    = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 2}
	OIDSex                 = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 3}
	OIDBirthDate           = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 4}
	OIDAddress             = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 5}
	OIDAddressSubstitution = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 6}
	oidSubjectAltName      = asn1.ObjectIdentifier{2, 5, 29, 17}
)

// ErrNoAttributes: the certificate carries no holder attributes (the
// authentication certificate never does).
var ErrNoAttributes = errors.New("certificate has no JPKI holder attributes")

// Attributes are the 基本4情報 in a signing certificate.
type Attributes struct {
	Name                string    `json:"name"`
	NameSubstitution    string    `json:"name_substitution,omitempty"` // one digit per character; 1 = substitute
	Sex                 string    `json:"sex"`                         // male, female, not-applicable, unknown
	BirthDate           myna.Date `json:"-"`
	BirthEra            myna.Era  `json:"-"`
	Address             string    `json:"address"`
	AddressSubstitution string    `json:"address_substitution,omitempty"`
}

// SexName maps a JIS X 0303 digit to its JSON name (docs/card.md §6.3).
func SexName(d string) string {
	switch d {
	case "1":
		return "male"
	case "2":
		return "female"
	case "9":
		return "not-applicable"
	}
	return "unknown"
}

// ParseAttributes reads the holder attributes from a certificate's
// subjectAltName, in any order.
func ParseAttributes(cert *x509.Certificate) (*Attributes, error) {
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			return ParseSubjectAltName(ext.Value)
		}
	}
	return nil, ErrNoAttributes
}

// ParseSubjectAltName parses the DER value of a subjectAltName extension.
func ParseSubjectAltName(der []byte) (*Attributes, error) {
	var names asn1.RawValue
	rest, err := asn1.Unmarshal(der, &names)
	if err != nil || len(rest) != 0 || names.Tag != asn1.TagSequence || names.Class != asn1.ClassUniversal {
		return nil, fmt.Errorf("subjectAltName: not a SEQUENCE")
	}
	vals := map[string]string{}
	b := names.Bytes
	for len(b) > 0 {
		var gn asn1.RawValue
		if b, err = asn1.Unmarshal(b, &gn); err != nil {
			return nil, fmt.Errorf("subjectAltName: %w", err)
		}
		if gn.Class != asn1.ClassContextSpecific || gn.Tag != 0 || !gn.IsCompound {
			continue // not an otherName
		}
		var oid asn1.ObjectIdentifier
		r, err := asn1.Unmarshal(gn.Bytes, &oid)
		if err != nil {
			return nil, fmt.Errorf("subjectAltName otherName: %w", err)
		}
		var wrapped asn1.RawValue
		if r, err = asn1.Unmarshal(r, &wrapped); err != nil || len(r) != 0 || wrapped.Class != asn1.ClassContextSpecific || wrapped.Tag != 0 {
			return nil, fmt.Errorf("subjectAltName otherName %v: value is not [0] EXPLICIT", oid)
		}
		var s string
		if r, err = asn1.UnmarshalWithParams(wrapped.Bytes, &s, "utf8"); err != nil || len(r) != 0 {
			return nil, fmt.Errorf("subjectAltName otherName %v: not a UTF8String", oid)
		}
		vals[oid.String()] = s
	}
	if len(vals) == 0 {
		return nil, ErrNoAttributes
	}
	a := &Attributes{
		Name:                vals[OIDName.String()],
		NameSubstitution:    vals[OIDNameSubstitution.String()],
		Sex:                 SexName(vals[OIDSex.String()]),
		Address:             vals[OIDAddress.String()],
		AddressSubstitution: vals[OIDAddressSubstitution.String()],
	}
	if bd := vals[OIDBirthDate.String()]; bd != "" {
		if len(bd) != 9 || bd[0] < '0' || bd[0] > '5' {
			return nil, fmt.Errorf("birth date attribute %q: want era digit and YYYYMMDD", bd)
		}
		t, err := myna.ParseCompactDate(bd[1:])
		if err != nil {
			return nil, fmt.Errorf("birth date attribute: %w", err)
		}
		a.BirthDate, a.BirthEra = t, myna.Era(bd[0]-'0')
	}
	return a, nil
}
