package persona_test

import (
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	ber "github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

func simStore(t *testing.T) *trust.Store {
	t.Helper()
	s := trust.Embedded().Clone()
	if err := s.AddPEM(persona.TestRootsPEM(), "simulator"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCVKeysJSON(persona.TestCVKeysJSON(), "simulator"); err != nil {
		t.Fatal(err)
	}
	return s
}

func obj(t *testing.T, img *simulator.Image, a myna.Applet, fid uint16) []byte {
	t.Helper()
	f := img.Applets[fmt.Sprintf("%X", a.AID())].Files[simulator.FIDString(fid)]
	if f == nil {
		t.Fatalf("%s lacks EF %04X", a, fid)
	}
	o, _, err := ber.Parse(f.Data)
	if err != nil {
		t.Fatal(err)
	}
	return o.Raw
}

// TestReadersAcceptTheImage runs the reader packages' own parsers and
// verifiers over the built image: genuine under the simulator's anchors,
// unknown under J-LIS's alone.
func TestReadersAcceptTheImage(t *testing.T) {
	img, err := persona.Build(persona.Default())
	if err != nil {
		t.Fatal(err)
	}
	sim, prod := simStore(t), trust.Embedded()

	textRaw := cardap.TextRaw{
		MyNumberEF: img.Applets[fmt.Sprintf("%X", myna.Text.AID())].Files["0001"].Data,
		Attributes: obj(t, img, myna.Text, myna.TextAttributes),
		Integrity:  obj(t, img, myna.Text, myna.TextIntegrity),
		CVCert:     obj(t, img, myna.Text, myna.TextCVCert),
		SignedKey:  obj(t, img, myna.Text, myna.TextSignedKey),
	}
	surfaceRaw := cardap.SurfaceRaw{
		Face:          obj(t, img, myna.Surface, myna.SurfaceFace),
		CVCert:        obj(t, img, myna.Surface, myna.SurfaceCVCert),
		BasicInfo:     obj(t, img, myna.Surface, myna.SurfaceBasicInfo),
		MyNumberImage: obj(t, img, myna.Surface, myna.SurfaceMyNumberImg),
	}
	text, _ := cardap.VerifyText(textRaw, sim)
	if text.Name != "黒桐　幹也" || text.MyNumber.Reveal() != "537686677188" {
		t.Errorf("text: %q", text.Name)
	}
	for name, checks := range map[string]func(*trust.Store) []trust.Check{
		"text":    func(s *trust.Store) []trust.Check { _, c := cardap.VerifyText(textRaw, s); return c },
		"surface": func(s *trust.Store) []trust.Check { _, c := cardap.VerifySurface(surfaceRaw, s); return c },
	} {
		if v := trust.Decide(checks(sim)); v != trust.Genuine {
			t.Errorf("%s under the simulator anchors: %s %+v", name, v, checks(sim))
		}
		if v := trust.Decide(checks(prod)); v == trust.Genuine {
			t.Errorf("%s is genuine under J-LIS production anchors", name)
		}
	}

	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		fid uint16
		nr  bool
	}{{myna.JPKIAuthCert, false}, {myna.JPKISignCert, true}} {
		cert, err := x509.ParseCertificate(obj(t, img, myna.JPKI, c.fid))
		if err != nil {
			t.Fatal(err)
		}
		opts := trust.CertOptions{Name: trust.CheckAuthCert, At: at, NonRepudiation: c.nr, Role: map[bool]trust.CertRole{false: trust.CertRoleAuth, true: trust.CertRoleSign}[c.nr]}
		if ch := sim.VerifyCertificate(cert, opts); ch.Result != trust.Pass {
			t.Errorf("EF %04X under the simulator roots: %+v", c.fid, ch)
		}
		if ch := prod.VerifyCertificate(cert, opts); ch.Result == trust.Pass {
			t.Errorf("EF %04X passes under J-LIS roots", c.fid)
		}
		if c.nr {
			attrs, err := jpki.ParseAttributes(cert)
			if err != nil {
				t.Fatal(err)
			}
			if attrs.Name != "黒桐　幹也" || attrs.BirthEra != myna.Showa || attrs.BirthDate.String() != "1980-02-17" {
				t.Errorf("SAN attributes %+v", attrs)
			}
		}
	}
}
