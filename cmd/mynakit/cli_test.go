package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// run executes the CLI in process and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd(strings.NewReader(stdin), &out, &errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			if ee.err != nil {
				errb.WriteString(ee.err.Error())
			}
		} else {
			code = exitUsageOrCard
			errb.WriteString(err.Error())
		}
	}
	return out.String(), errb.String(), code
}

type readOut struct {
	Text struct {
		MyNumber, Name, Address, BirthDate, Sex string
	}
	Surface struct {
		BirthDate, Sex, ExpiryDate string
		Photo                      struct {
			Format string
			Bytes  int
		}
	}
	Common struct {
		Serial, MunicipalityCode, ExpiryDate string
	}
	JPKI struct {
		AuthCertificate struct{ Serial, NotBefore, NotAfter string }
	}
	Verification struct {
		Verdict string
		Checks  []struct{ Name, Result, Anchor, Detail string }
	}
}

func decodeRead(t *testing.T, s string) readOut {
	t.Helper()
	// Accept both the snake_case contract and Go names: map first.
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	var r readOut
	fix := strings.NewReplacer(`"my_number"`, `"MyNumber"`, `"birth_date"`, `"BirthDate"`, `"expiry_date"`, `"ExpiryDate"`,
		`"municipality_code"`, `"MunicipalityCode"`, `"auth_certificate"`, `"AuthCertificate"`, `"not_before"`, `"NotBefore"`, `"not_after"`, `"NotAfter"`)
	if err := json.Unmarshal([]byte(fix.Replace(s)), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReadJSONMatchesPersona(t *testing.T) {
	out, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "read", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	r := decodeRead(t, out)
	p := persona.Default()
	if r.Text.MyNumber != string(p.MyNumber) || r.Text.Name != p.Name || r.Text.Address != p.Address || r.Text.BirthDate != p.BirthDate || r.Text.Sex != "male" {
		t.Errorf("text %+v", r.Text)
	}
	if r.Surface.BirthDate != p.BirthDate || r.Surface.ExpiryDate != p.CardExpiry || r.Surface.Sex != "male" || r.Surface.Photo.Format != "jpeg2000" || r.Surface.Photo.Bytes < 500 {
		t.Errorf("surface %+v", r.Surface)
	}
	if r.Common.Serial != p.Serial || r.Common.MunicipalityCode != p.Municipality || r.Common.ExpiryDate != p.CardExpiry {
		t.Errorf("common %+v", r.Common)
	}
	if r.JPKI.AuthCertificate.Serial == "" || r.JPKI.AuthCertificate.NotAfter == "" {
		t.Errorf("jpki %+v", r.JPKI)
	}
	if r.Verification.Verdict != "genuine" {
		t.Errorf("verdict %s: %+v", r.Verification.Verdict, r.Verification.Checks)
	}
	for _, c := range r.Verification.Checks {
		if c.Result == "pass" && c.Anchor == "" && !strings.HasPrefix(c.Name, "consistency:") && !strings.HasPrefix(c.Name, "text:my-number-check") {
			t.Errorf("check %s passed without naming its anchor", c.Name)
		}
	}
	if strings.Contains(errs, "1234") {
		t.Error("the PIN reached standard error")
	}
}

// writeImage writes img for --sim-image.
func writeImage(t *testing.T, img *simulator.Image) string {
	t.Helper()
	b, err := img.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "card.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func defaultImage(t *testing.T) *simulator.Image {
	t.Helper()
	img, err := persona.Build(persona.Default())
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func efData(t *testing.T, img *simulator.Image, a myna.Applet, fid uint16) []byte {
	t.Helper()
	ap := img.Applets[hex.EncodeToString(a.AID())]
	if ap == nil {
		ap = img.Applets[strings.ToUpper(hex.EncodeToString(a.AID()))]
	}
	f := ap.Files[simulator.FIDString(fid)]
	if f == nil {
		t.Fatalf("no EF %04X in %s", fid, a)
	}
	return f.Data
}

// fieldOffset finds the value of a TLV tag inside a file's outer object.
func fieldOffset(t *testing.T, data []byte, tag uint32) (int, int) {
	t.Helper()
	outer, _, err := apdu.ParseTLV(data)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := outer.Children()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if k.Tag == tag {
			start := len(outer.Raw) - len(outer.Value)
			off := start
			for _, k2 := range kids {
				if k2.Tag == tag {
					break
				}
				off += len(k2.Raw)
			}
			return off + len(k.Raw) - len(k.Value), len(k.Value)
		}
	}
	t.Fatalf("no tag %X", tag)
	return 0, 0
}

// TestTamperedImages changes one byte of each signed item and expects
// not-genuine, exit 1, naming the failed check.
func TestTamperedImages(t *testing.T) {
	cases := []struct {
		name   string
		applet myna.Applet
		fid    uint16
		at     func(t *testing.T, data []byte) int
		check  string
	}{
		{"My Number file filler", myna.Text, myna.TextMyNumber, func(t *testing.T, d []byte) int { return 16 }, "text:my-number-digest"},
		{"name", myna.Text, myna.TextAttributes, func(t *testing.T, d []byte) int { o, _ := fieldOffset(t, d, 0xDF22); return o + 1 }, "text:attributes-digest"},
		{"address", myna.Text, myna.TextAttributes, func(t *testing.T, d []byte) int { o, n := fieldOffset(t, d, 0xDF23); return o + n - 1 }, "text:attributes-digest"},
		{"birth date", myna.Text, myna.TextAttributes, func(t *testing.T, d []byte) int { o, _ := fieldOffset(t, d, 0xDF24); return o + 3 }, "text:attributes-digest"},
		{"integrity signature", myna.Text, myna.TextIntegrity, func(t *testing.T, d []byte) int { o, _ := fieldOffset(t, d, 0xDF33); return o + 9 }, "text:integrity-signature"},
		{"text CV certificate", myna.Text, myna.TextCVCert, func(t *testing.T, d []byte) int { return 100 }, "text:cv-certificate"},
		{"face birth date", myna.Surface, myna.SurfaceFace, func(t *testing.T, d []byte) int { o, _ := fieldOffset(t, d, 0xDF22); return o + 3 }, "surface:face-signature"},
		{"name image", myna.Surface, myna.SurfaceFace, func(t *testing.T, d []byte) int { o, n := fieldOffset(t, d, 0xDF25); return o + n/2 }, "surface:face-signature"},
		{"photo", myna.Surface, myna.SurfaceFace, func(t *testing.T, d []byte) int { o, n := fieldOffset(t, d, 0xDF27); return o + n/2 }, "surface:face-signature"},
		{"surface CV certificate", myna.Surface, myna.SurfaceCVCert, func(t *testing.T, d []byte) int { return 120 }, "surface:cv-certificate"},
		{"auth certificate", myna.JPKI, myna.JPKIAuthCert, func(t *testing.T, d []byte) int {
			obj, _, _ := apdu.ParseTLV(d)
			return len(obj.Raw) - 5 // inside the signature value
		}, "x509:auth-certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := defaultImage(t)
			data := efData(t, img, c.applet, c.fid)
			data[c.at(t, data)] ^= 0x01
			out, errs, code := run(t, "1234\n", "--sim-image", writeImage(t, img), "--pin-stdin", "read", "--json")
			if code != exitNotGenuine {
				t.Fatalf("exit %d, want 1: %s\n%s", code, errs, out)
			}
			r := decodeRead(t, out)
			if r.Verification.Verdict != "not-genuine" {
				t.Fatalf("verdict %s", r.Verification.Verdict)
			}
			for _, ch := range r.Verification.Checks {
				if ch.Name == c.check && ch.Result == "fail" {
					return
				}
			}
			t.Fatalf("%s did not fail: %+v", c.check, r.Verification.Checks)
		})
	}
}

// TestTamperedCardChain changes the MF-level CV certificate (GET DATA 00F8).
func TestTamperedCardChain(t *testing.T) {
	img := defaultImage(t)
	img.GetData["00F8"][40] ^= 0x01
	out, _, code := run(t, "1234\n", "--sim-image", writeImage(t, img), "--pin-stdin", "verify", "--json")
	if code != exitNotGenuine || !strings.Contains(out, `"name": "card:cv-chain-root",
      "result": "fail"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestUnknownAnchor: a CV certificate naming a key no anchor holds gives
// unknown, exit 2.
func TestUnknownAnchor(t *testing.T) {
	img := defaultImage(t)
	cv := efData(t, img, myna.Text, myna.TextCVCert)
	o, _ := fieldOffset(t, cv, 0x5F4E)
	cv[o+6] = '9' // issuer key number 699003x -> 699009x: no such key
	out, errs, code := run(t, "1234\n", "--sim-image", writeImage(t, img), "--pin-stdin", "verify", "--json")
	if code != exitUnknown {
		t.Fatalf("exit %d, want 2: %s\n%s", code, errs, out)
	}
	if !strings.Contains(out, `"verdict": "unknown"`) || !strings.Contains(out, "no trust anchor for CV issuer key") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestVerifyHumanRows(t *testing.T) {
	out, _, code := run(t, "1234\n", "--simulator", "--pin-stdin", "verify")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"text:cv-certificate", "surface:face-signature", "presence:surface", "x509:auth-certificate", "GENUINE"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

func TestPINStatusJSON(t *testing.T) {
	out, errs, code := run(t, "", "--simulator", "pin", "status", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var st struct {
		Keys []struct {
			Name, Applet   string
			Remaining, Max int
			Blocked        bool
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{"jpki-auth-pin": {3, 3}, "jpki-sign-password": {5, 5}, "text-pin": {3, 3}, "juki-pin": {3, 3}}
	seen := map[string]bool{}
	for _, k := range st.Keys {
		seen[k.Name] = true
		if w, ok := want[k.Name]; ok && (k.Remaining != w[0] || k.Max != w[1] || k.Blocked) {
			t.Errorf("%s: %+v", k.Name, k)
		}
	}
	for _, n := range []string{"jpki-auth-pin", "jpki-sign-password", "text-pin", "text-code-a", "text-code-b", "surface-code-a", "surface-code-b", "common-pin", "juki-pin"} {
		if !seen[n] {
			t.Errorf("pin status lacks %s", n)
		}
	}
}

func TestOnePromptForEverything(t *testing.T) {
	// One line on stdin: a second prompt would hit end of input and fail.
	_, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "read", "--only", "jpki,text,surface")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestLastTryGuard(t *testing.T) {
	p := persona.Default()
	p.Remaining = map[string]int{"text-pin": 1}
	img, err := persona.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	path := writeImage(t, img)
	_, errs, code := run(t, "9999\n", "--sim-image", path, "--pin-stdin", "read", "--only", "text")
	if code != exitUsageOrCard || !strings.Contains(errs, "would block") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "9999") {
		t.Error("the wrong PIN reached the error")
	}
}

func TestPINChangeShortCLI(t *testing.T) {
	out, errs, code := run(t, "1234\n5678\n5678\n", "--simulator", "--pin-stdin", "pin", "change", "short", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, n := range []string{"jpki-auth-pin", "text-pin", "common-pin", "juki-pin"} {
		if !strings.Contains(out, `"name": "`+n+`"`) {
			t.Errorf("%s missing from the report", n)
		}
	}
	if strings.Count(out, `"holds": "new"`) != 4 {
		t.Errorf("not every key holds the new PIN:\n%s", out)
	}
	if _, _, code := run(t, "1234\n5678\n5679\n", "--simulator", "--pin-stdin", "pin", "change", "short"); code != exitUsageOrCard {
		t.Error("mismatched new PINs accepted")
	}
}

func TestSimPersonaAndImage(t *testing.T) {
	out, _, code := run(t, "", "sim", "persona")
	if code != 0 || !strings.Contains(out, "黒桐") {
		t.Fatalf("sim persona: %d\n%s", code, out)
	}
	out, _, code = run(t, "", "sim", "image")
	if code != 0 {
		t.Fatal(code)
	}
	if _, err := simulator.ParseImage([]byte(out)); err != nil {
		t.Fatalf("sim image output: %v", err)
	}
}

func TestAPDUCommand(t *testing.T) {
	out, _, code := run(t, "", "--simulator", "apdu", "00A4040C0AD392F000260100000001", "00 20 00 98")
	if code != 0 || !strings.Contains(out, "< 90 00") && !strings.Contains(out, "<  9000") && !strings.Contains(out, "9000") || !strings.Contains(out, "63C3") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestPINVerifyGuardCLI(t *testing.T) {
	p := persona.Default()
	p.Remaining = map[string]int{"jpki-auth-pin": 1}
	img, err := persona.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	path := writeImage(t, img)
	out, errs, code := run(t, "9999\n", "--sim-image", path, "--pin-stdin", "pin", "verify", "jpki-auth-pin")
	if code != exitUsageOrCard || !strings.Contains(errs, "would block") || strings.Contains(errs+out, "9999") {
		t.Fatalf("guarded: exit %d %s %s", code, out, errs)
	}
	_, errs, code = run(t, "9999\n", "--sim-image", path, "--pin-stdin", "--allow-last-try", "pin", "verify", "jpki-auth-pin")
	if code != exitUsageOrCard || !strings.Contains(errs, "blocked") {
		t.Fatalf("last try allowed: exit %d %s", code, errs)
	}
	out, _, code = run(t, "1234\n", "--sim-image", path, "--pin-stdin", "--allow-last-try", "pin", "verify", "jpki-auth-pin")
	if code != 0 || !strings.Contains(out, "correct") {
		t.Fatalf("right PIN on the last try: exit %d %s", code, out)
	}
}

// TestAndroidToken: a smartphone JPKI token has only the JPKI applet and
// protects the authentication certificate with the PIN.
func TestAndroidToken(t *testing.T) {
	p := persona.Default()
	p.Token = persona.TokenAndroid
	img, err := persona.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "1234\n", "--sim-image", writeImage(t, img), "--pin-stdin", "read", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, want := range []string{`"token": "android"`, `"missing_applets": [`, `"x509:auth-certificate"`, `"verdict": "genuine"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in:\n%s", want, out)
		}
	}
}

func TestSimRefusesRemoteListen(t *testing.T) {
	_, errs, code := run(t, "", "sim", "--vpcd-listen", "0.0.0.0:35963")
	if code != exitUsageOrCard || !strings.Contains(errs, "not a loopback address") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, _, code := run(t, "", "sim"); code != exitUsageOrCard {
		t.Fatalf("sim without a mode: exit %d", code)
	}
}
