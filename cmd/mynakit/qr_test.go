package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/qr"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// qrCodes makes the default persona's age and attributes codes from its
// card image, as a reader of the card would.
func qrCodes(t *testing.T) (age, attrs *qr.Payload) {
	t.Helper()
	img, err := persona.Build(persona.Default())
	if err != nil {
		t.Fatal(err)
	}
	get := func(a myna.Applet, fid uint16) []byte {
		return img.Applets[fmt.Sprintf("%X", a.AID())].Files[simulator.FIDString(fid)].Data
	}
	age, err = qr.MakeAge(get(myna.Surface, myna.SurfaceAgeRecord), get(myna.Surface, myna.SurfaceCVCert))
	if err != nil {
		t.Fatal(err)
	}
	attrs, err = qr.MakeAttributes(get(myna.Text, myna.TextAttributes), get(myna.Text, myna.TextIntegrity), get(myna.Text, myna.TextCVCert))
	if err != nil {
		t.Fatal(err)
	}
	return age, attrs
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQRVerifyAgePNG(t *testing.T) {
	age, _ := qrCodes(t)
	png, err := qr.PNG(age, 0)
	if err != nil {
		t.Fatal(err)
	}
	file := writeTemp(t, "age.png", png)

	out, errs, code := run(t, "", "--simulator", "qr", "verify", file)
	if code != 0 || !strings.Contains(out, "1980-02-17") || !strings.Contains(out, "GENUINE") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "黒桐") {
		t.Error("an age code showed the name")
	}

	out, _, code = run(t, "", "--simulator", "qr", "verify", "--json", file)
	var r struct {
		Kind      string `json:"kind"`
		BirthDate string `json:"birth_date"`
		Verdict   string `json:"verdict"`
		Checks    []struct{ Name, Result string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if code != 0 || r.Kind != "age" || r.BirthDate != "1980-02-17" || r.Verdict != "genuine" || len(r.Checks) != 3 {
		t.Errorf("exit %d, %+v", code, r)
	}

	// The simulator's CA is unknown without --simulator or --trust-dir.
	if _, _, code := run(t, "", "qr", "verify", file); code != exitUnknown {
		t.Errorf("unknown CA: exit %d, want %d", code, exitUnknown)
	}
	if _, _, code := run(t, "", "--trust-dir", filepath.Join("..", "..", "simulator", "testdata", "trust"), "qr", "verify", file); code != 0 {
		t.Errorf("--trust-dir with the simulator's anchors: exit %d", code)
	}
}

func TestQRVerifyPhotographedCode(t *testing.T) {
	out, errs, code := run(t, "", "--simulator", "qr", "verify", filepath.Join("..", "..", "qr", "testdata", "age-photo.png"))
	if code != 0 || !strings.Contains(out, "1980-02-17") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}

func TestQRVerifyAttributesTextAndTampering(t *testing.T) {
	_, attrs := qrCodes(t)
	text, err := attrs.Text()
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, text+"\n", "--simulator", "qr", "verify", "-")
	if code != 0 || !strings.Contains(out, "黒桐　幹也") || !strings.Contains(out, "1980-02-17") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "537686677188") {
		t.Error("the My Number was printed")
	}

	// One byte of the name changed: raw payload, not genuine.
	tampered := *attrs
	tampered.Record = append([]byte(nil), attrs.Record...)
	tampered.Record[5] ^= 0x01
	raw, err := tampered.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "", "--simulator", "qr", "verify", writeTemp(t, "code.cbor", raw))
	if code != exitNotGenuine || !strings.Contains(out, "NOT GENUINE") {
		t.Errorf("tampered attributes: exit %d\n%s", code, out)
	}

	// Not a code at all.
	if _, errs, code := run(t, "", "--simulator", "qr", "verify", writeTemp(t, "junk", []byte{0xA1, 0x00, 0x09})); code != exitUsageOrCard || !strings.Contains(errs, "version") {
		t.Errorf("unknown version: exit %d, %s", code, errs)
	}
}
