package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
)

var (
	oidCRLNumber       = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRL        = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPt   = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID  = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLDistPoints   = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidFreshestCRL     = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidAuthorityInfoAc = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
)

// crlScope says why crl cannot speak for cert (RFC 5280 §5.2.5, §6.3.3):
// a delta CRL, or an issuing distribution point that limits the CRL to CA
// certificates, attribute certificates, some reasons, an indirect issuer,
// or distribution points none of which the certificate names. A CRL whose
// scope does not cover the certificate would clear it by saying nothing.
// "" when the CRL covers cert.
func crlScope(crl *x509.RevocationList, cert *x509.Certificate) string {
	var idp []byte
	for _, e := range crl.Extensions {
		switch {
		case e.Id.Equal(oidDeltaCRL):
			return "the CRL is a delta CRL, which cannot clear a certificate on its own"
		case e.Id.Equal(oidIssuingDistPt):
			idp = e.Value
		case e.Id.Equal(oidCRLNumber), e.Id.Equal(oidAuthorityKeyID), e.Id.Equal(oidFreshestCRL), e.Id.Equal(oidAuthorityInfoAc):
		default:
			if e.Critical {
				return "the CRL carries a critical extension " + e.Id.String() + " mynakit does not understand"
			}
		}
	}
	if idp == nil {
		return "" // a complete CRL of its issuer
	}
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(idp, &seq); err != nil || len(rest) != 0 || seq.Tag != asn1.TagSequence || seq.Class != asn1.ClassUniversal || !seq.IsCompound {
		return "the CRL's issuing distribution point does not parse"
	}
	var dpNames []asn1.RawValue
	haveDP := false
	for b := seq.Bytes; len(b) > 0; {
		var f asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &f); err != nil || f.Class != asn1.ClassContextSpecific {
			return "the CRL's issuing distribution point does not parse"
		}
		switch f.Tag {
		case 0: // distributionPoint
			names, ok := fullNames(f)
			if !ok {
				return "the CRL's issuing distribution point is named relative to its issuer, which mynakit cannot compare"
			}
			dpNames, haveDP = names, true
		case 1: // onlyContainsUserCerts: an end-entity certificate is in scope
		case 2:
			if isTrue(f) {
				return "the CRL covers only CA certificates"
			}
		case 3:
			return "the CRL covers only some revocation reasons"
		case 4:
			if isTrue(f) {
				return "the CRL is an indirect CRL, which mynakit does not accept"
			}
		case 5:
			if isTrue(f) {
				return "the CRL covers only attribute certificates"
			}
		default:
			return "the CRL's issuing distribution point has an unknown field"
		}
	}
	if !haveDP {
		return ""
	}
	certNames, ok := certDistributionPoints(cert)
	if !ok || len(certNames) == 0 {
		return "the CRL covers one distribution point, and the certificate names none it shares"
	}
	for _, n := range dpNames {
		for _, m := range certNames {
			if bytes.Equal(n.FullBytes, m.FullBytes) {
				return ""
			}
		}
	}
	return "the CRL's distribution point is not one the certificate names: the CRL does not cover it"
}

// isTrue reads an IMPLICIT BOOLEAN field.
func isTrue(f asn1.RawValue) bool { return len(f.Bytes) == 1 && f.Bytes[0] != 0 }

// fullNames reads a [n] DistributionPointName wrapper: the GeneralNames of
// its fullName [0] choice (ok false for nameRelativeToCRLIssuer or
// anything that does not parse).
func fullNames(wrapper asn1.RawValue) ([]asn1.RawValue, bool) {
	var choice asn1.RawValue
	if rest, err := asn1.Unmarshal(wrapper.Bytes, &choice); err != nil || len(rest) != 0 || choice.Class != asn1.ClassContextSpecific || choice.Tag != 0 || !choice.IsCompound {
		return nil, false
	}
	var out []asn1.RawValue
	for b := choice.Bytes; len(b) > 0; {
		var gn asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &gn); err != nil {
			return nil, false
		}
		out = append(out, gn)
	}
	return out, true
}

// certDistributionPoints reads the GeneralNames of every fullName in the
// certificate's cRLDistributionPoints extension.
func certDistributionPoints(cert *x509.Certificate) ([]asn1.RawValue, bool) {
	for _, e := range cert.Extensions {
		if !e.Id.Equal(oidCRLDistPoints) {
			continue
		}
		var dps []asn1.RawValue
		if rest, err := asn1.Unmarshal(e.Value, &dps); err != nil || len(rest) != 0 {
			return nil, false
		}
		var out []asn1.RawValue
		for _, dp := range dps {
			for b := dp.Bytes; len(b) > 0; {
				var f asn1.RawValue
				var err error
				if b, err = asn1.Unmarshal(b, &f); err != nil {
					return nil, false
				}
				if f.Class == asn1.ClassContextSpecific && f.Tag == 0 {
					if names, ok := fullNames(f); ok {
						out = append(out, names...)
					}
				}
			}
		}
		return out, true
	}
	return nil, true
}
