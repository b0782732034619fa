package cardap

import (
	"testing"

	"github.com/mynakit/mynakit/trust"
)

// sane checks what every set of checks must satisfy.
func sane(t *testing.T, checks []trust.Check) {
	t.Helper()
	if len(checks) == 0 {
		t.Fatal("no checks")
	}
	for _, c := range checks {
		if c.Name == "" || (c.Result != trust.Pass && c.Result != trust.Fail && c.Result != trust.Unknown) {
			t.Fatalf("malformed check %+v", c)
		}
	}
}

func FuzzParseText(f *testing.F) {
	raw := textRaw(f)
	f.Add(raw.MyNumberEF, raw.Attributes, raw.Integrity, raw.CVCert, raw.SignedKey)
	f.Fuzz(func(t *testing.T, mn, attrs, integ, cv, key []byte) {
		// Whatever the card sends must give checks, never a panic; and
		// nothing unsigned may offer itself as 照合番号A.
		tx, checks := VerifyText(TextRaw{MyNumberEF: mn, Attributes: attrs, Integrity: integ, CVCert: cv, SignedKey: key}, testStore(t))
		sane(t, checks)
		if mnv, ok := tx.VerifiedMyNumber(); ok && !MyNumber(mnv).Valid() {
			t.Fatal("a My Number with a wrong check digit is offered as 照合番号A")
		}
	})
}

func FuzzParseSurface(f *testing.F) {
	raw := faceRaw(f)
	f.Add(raw.Face, raw.CVCert, raw.AgeRecord, raw.MyNumberImage, raw.BasicInfo)
	f.Fuzz(func(t *testing.T, face, cv, age, img, info []byte) {
		_, checks := VerifySurface(SurfaceRaw{Face: face, CVCert: cv, AgeRecord: age, MyNumberImage: img, BasicInfo: info}, testStore(t))
		sane(t, checks)
	})
}

func FuzzParseCVCertificate(f *testing.F) {
	keys(f)
	f.Add(cvCert(f, testIssuer))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCVCertificate(b)
		if err != nil {
			return
		}
		if len(c.Body) != cvBodyLen || c.PublicKey == nil {
			t.Fatal("accepted a malformed certificate")
		}
	})
}

func FuzzParseCommon(f *testing.F) {
	f.Add(append([]byte{0x01, 0x1C}, "4000000127198431322120350217"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommon(b)
		if err == nil && len(c.Serial) != 15 {
			t.Fatal("serial of wrong length")
		}
	})
}
