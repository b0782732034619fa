package cardap

import (
	"testing"
)

func FuzzParseText(f *testing.F) {
	raw := textRaw(f)
	f.Add(raw.MyNumberEF, raw.Attributes, raw.Integrity, raw.CVCert, raw.SignedKey)
	f.Fuzz(func(t *testing.T, mn, attrs, integ, cv, key []byte) {
		tx, err := ParseText(TextRaw{MyNumberEF: mn, Attributes: attrs, Integrity: integ, CVCert: cv, SignedKey: key})
		if err != nil {
			return
		}
		// Whatever parses must verify without panicking.
		_ = tx.Verify(testStore(t))
	})
}

func FuzzParseSurface(f *testing.F) {
	raw := faceRaw(f)
	f.Add(raw.Face, raw.CVCert, raw.AgeRecord, raw.MyNumberImage, raw.BasicInfo)
	f.Fuzz(func(t *testing.T, face, cv, age, img, info []byte) {
		s, err := ParseSurface(SurfaceRaw{Face: face, CVCert: cv, AgeRecord: age, MyNumberImage: img, BasicInfo: info})
		if err != nil {
			return
		}
		_ = s.Verify(testStore(t))
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
