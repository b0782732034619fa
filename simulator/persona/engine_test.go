package persona_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	ber "github.com/mynakit/mynakit/tlv"
)

// TestReadThroughEngine serves the default persona with the simulator
// engine and reads every applet's files through apdu.Card as a reader would.
func TestReadThroughEngine(t *testing.T) {
	ctx := context.Background()
	img, err := persona.Build(persona.Default())
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(img)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	card := apdu.NewCard(sim)

	sel := func(a myna.Applet) {
		t.Helper()
		if err := card.SelectAID(ctx, a.AID()); err != nil {
			t.Fatal(err)
		}
	}
	read := func(a myna.Applet, fid uint16) []byte {
		t.Helper()
		b, err := card.ReadObject(ctx, fid)
		if err != nil {
			t.Fatalf("%s EF %04X: %v", a, fid, err)
		}
		if want := obj(t, img, a, fid); !bytes.Equal(b, want) {
			t.Fatalf("%s EF %04X differs from the image", a, fid)
		}
		return b
	}
	verify := func(fid uint16, secret string) {
		t.Helper()
		if err := card.Verify(ctx, apdu.KeySFI(fid), []byte(secret)); err != nil {
			t.Fatalf("VERIFY %04X: %v", fid, err)
		}
	}

	// JPKI: free certificates, the signing certificate after the password.
	sel(myna.JPKI)
	read(myna.JPKI, myna.JPKIAuthCert)
	read(myna.JPKI, myna.JPKIAuthCACert)
	read(myna.JPKI, myna.JPKISignCACert)
	if _, err := card.ReadObject(ctx, myna.JPKISignCert); !errors.Is(err, apdu.ErrSecurityStatus) {
		t.Fatalf("sign certificate without the password: %v", err)
	}
	verify(myna.JPKISignPIN, "ABC123")
	read(myna.JPKI, myna.JPKISignCert)

	// Text AP with the PIN.
	sel(myna.Text)
	verify(myna.TextPIN, "1234")
	phys, err := card.ReadPhysical(ctx, myna.TextMyNumber, 64)
	if err != nil || len(phys) != 17 {
		t.Fatalf("text EF 0001: %d bytes, %v", len(phys), err)
	}
	for _, fid := range []uint16{myna.TextAttributes, myna.TextIntegrity, myna.TextCVCert, myna.TextBasicInfo, myna.TextSignedKey} {
		read(myna.Text, fid)
	}

	// Surface AP with 照合番号B, then the presence proof with P2 00.
	sel(myna.Surface)
	verify(myna.SurfaceCodeB, "55021720352285")
	face := read(myna.Surface, myna.SurfaceFace)
	read(myna.Surface, myna.SurfaceCVCert)
	faceObj, _, _ := ber.Parse(face)
	kids, _ := faceObj.Children()
	pubTLV, _ := ber.Find(kids, 0xDF24)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(pubTLV.Value[9:]), E: 65537}
	challenge, err := card.GetChallenge(ctx, 16)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(challenge)
	di := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, h[:]...)
	sig, err := card.ComputeSignature(ctx, 0x00, 0x00, di)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("presence proof: %v", err)
	}

	// Common AP record, then the MF objects from the power-on state.
	sel(myna.Common)
	rec, err := card.ReadRecord(ctx, 1, 1)
	if err != nil || !bytes.Equal(rec, img.Applets[hexAID(myna.Common)].Files["0001"].Records[0]) {
		t.Fatalf("common record: %v", err)
	}
	if err := card.SelectAID(ctx, myna.ISDAID()); err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[uint16]string{0x00F8: "00F8", 0x7F21: "7F21", 0x00F0: "00F0"} {
		got, err := card.GetData(ctx, tag)
		if err != nil || !bytes.Equal(got, img.GetData[want]) {
			t.Fatalf("GET DATA %04X: %v", tag, err)
		}
	}
}

func hexAID(a myna.Applet) string {
	const digits = "0123456789ABCDEF"
	var out []byte
	for _, c := range a.AID() {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestEngineJPKISignAndAndroid signs with JPKI 0017 after the PIN and checks
// the Android token's protected authentication certificate.
func TestEngineJPKISignAndAndroid(t *testing.T) {
	ctx := context.Background()
	p := persona.Default()
	p.Token = jpki.TokenAndroid
	img, err := persona.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(img)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	card := apdu.NewCard(sim)
	if err := card.SelectAID(ctx, myna.Text.AID()); err == nil {
		t.Fatal("the android token has a text applet")
	}
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		t.Fatal(err)
	}
	if _, err := card.ReadObject(ctx, myna.JPKIAuthCert); !errors.Is(err, apdu.ErrSecurityStatus) {
		t.Fatalf("000A without the PIN on android: %v", err)
	}
	if err := card.Verify(ctx, apdu.KeySFI(myna.JPKIAuthPIN), []byte("1234")); err != nil {
		t.Fatal(err)
	}
	der, err := card.ReadObject(ctx, myna.JPKIAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("hello"))
	di := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, h[:]...)
	if err := card.SelectEF(ctx, myna.JPKIAuthKey); err != nil {
		t.Fatal(err)
	}
	sig, err := card.ComputeSignature(ctx, 0x00, 0x80, di)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignature(x509.SHA256WithRSA, []byte("hello"), sig); err != nil {
		t.Fatalf("JPKI auth signature: %v", err)
	}
}
