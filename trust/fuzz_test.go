package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// FuzzCRLScope: a CRL's issuing distribution point and a certificate's
// distribution points are hostile input (a CRL file, a card's
// certificate). crlScope never panics, and a malformed extension never
// clears a certificate.
func FuzzCRLScope(f *testing.F) {
	f.Add([]byte{0x30, 0x00}, []byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x03, 0x82, 0x01, 0xFF}, []byte{0x30, 0x00})
	uri := []byte("http://crl.example/a.crl")
	gn := append([]byte{0x86, byte(len(uri))}, uri...)
	full := append([]byte{0xA0, byte(len(gn))}, gn...)
	dpName := append([]byte{0xA0, byte(len(full))}, full...)
	idp := append([]byte{0x30, byte(len(dpName))}, dpName...)
	dp := append([]byte{0x30, byte(len(dpName))}, dpName...)
	dps := append([]byte{0x30, byte(len(dp))}, dp...)
	f.Add(idp, dps)
	f.Add(idp[:len(idp)-3], dps)
	f.Fuzz(func(t *testing.T, idp, dps []byte) {
		crl := &x509.RevocationList{Extensions: []pkix.Extension{{Id: oidIssuingDistPt, Critical: true, Value: idp}}}
		cert := &x509.Certificate{Extensions: []pkix.Extension{{Id: oidCRLDistPoints, Value: dps}}}
		why := crlScope(crl, cert)
		if why == "" && (len(idp) == 0 || idp[0] != 0x30) {
			t.Fatalf("an issuing distribution point that is not a SEQUENCE cleared the certificate")
		}
	})
}
