package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// The command-line tests cover what the command adds to the library: flags,
// printing, JSON on stdout, exit statuses and files. The verdict itself is
// tested in the root package.

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
				errb.WriteString(explain(ee.err))
			}
		} else {
			code = exitError3
			errb.WriteString(err.Error())
		}
	}
	return out.String(), errb.String(), code
}

func writeImage(t *testing.T, img *simulator.Image) string { return simtest.WriteImage(t, img) }

func defaultImage(t *testing.T) *simulator.Image { return simtest.Image(t) }

func efData(t *testing.T, img *simulator.Image, a myna.Applet, fid uint16) []byte {
	return simtest.EF(t, img, a, fid)
}

// The JSON on stdout decodes into the documented member names as they are.
func TestReadJSONContract(t *testing.T) {
	out, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "read", "--json")
	if code != exitGenuine {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	var r struct {
		Format string `json:"format"`
		Text   struct {
			MyNumber  string `json:"my_number"`
			Name      string `json:"name"`
			BirthDate string `json:"birth_date"`
			Sex       string `json:"sex"`
		} `json:"text"`
		Surface struct {
			BirthDate string `json:"birth_date"`
			Photo     struct {
				Format string `json:"format"`
			} `json:"photo"`
			Unsigned struct {
				ExpiryDate string `json:"expiry_date"`
			} `json:"unsigned"`
		} `json:"surface"`
		Common struct {
			Unsigned struct {
				Serial string `json:"serial"`
			} `json:"unsigned"`
		} `json:"common"`
		Verification struct {
			Verdict     string `json:"verdict"`
			TestAnchors bool   `json:"test_anchors"`
			Checks      []struct {
				Name, Result string
			} `json:"checks"`
		} `json:"verification"`
	}
	var loose map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &loose); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	p := persona.Default()
	if r.Format != "mynakit-report/1" || r.Text.MyNumber != string(p.MyNumber) || r.Text.Name != p.Name || r.Text.Sex != "male" ||
		r.Surface.BirthDate != p.BirthDate || r.Surface.Photo.Format != "jpeg2000" || r.Surface.Unsigned.ExpiryDate != p.CardExpiry ||
		r.Common.Unsigned.Serial != p.Serial || r.Verification.Verdict != "genuine" || !r.Verification.TestAnchors || len(r.Verification.Checks) < 15 {
		t.Fatalf("decoded %+v", r)
	}
	if strings.Contains(errs, "1234") {
		t.Error("the PIN reached standard error")
	}
}

// Every verdict has its exit status.
func TestExitStatuses(t *testing.T) {
	tampered := defaultImage(t)
	off, _ := simtest.Field(t, efData(t, tampered, myna.Text, myna.TextAttributes), 0xDF22)
	efData(t, tampered, myna.Text, myna.TextAttributes)[off+1] ^= 0x01

	unknown := defaultImage(t)
	cv := efData(t, unknown, myna.Text, myna.TextCVCert)
	o, _ := simtest.Field(t, cv, 0x5F4E)
	cv[o+6] = '9' // issuer key 6990033 -> 6990039: no such anchor

	expired := simtest.Image(t, func(p *persona.Persona) { p.CardExpiry, p.CertIssued = "2026-02-17", "2024-06-01" })

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"genuine", []string{"--simulator"}, exitGenuine, "真正 GENUINE"},
		{"tampered name", []string{"--sim-image", writeImage(t, tampered)}, exitNotGenuine, "text:attributes-digest"},
		{"unknown anchor", []string{"--sim-image", writeImage(t, unknown)}, exitUnknown, "不明 UNKNOWN"},
		{"expired card", []string{"--sim-image", writeImage(t, expired)}, exitGenuineExpired, "期限切れ"},
	} {
		out, errs, code := run(t, "1234\n", append(tc.args, "--pin-stdin", "read")...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d (want %d)\n%s%s", tc.name, code, tc.code, out, errs)
		}
	}
	if _, _, code := run(t, "", "read", "--only", "nonsense", "--simulator"); code != exitError3 {
		t.Errorf("usage error: exit %d", code)
	}
	// A wrong PIN is an error (3), not a verdict, and says what to do.
	_, errs, code := run(t, "9999\n", "--simulator", "--pin-stdin", "read")
	if code != exitError3 || !strings.Contains(errs, "残り2回") || strings.Contains(errs, "9999") {
		t.Errorf("wrong PIN: exit %d %s", code, errs)
	}
}

// Human output marks unsigned values, test anchors, and escapes card text.
func TestHumanOutput(t *testing.T) {
	out, _, code := run(t, "1234\n", "--simulator", "--pin-stdin", "read")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"有効期限 Card expiry", "2035-02-17 (署名なし unsigned)", "カード番号 Card serial", "TEST ANCHORS", "(TEST anchor)", "key not proven"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	img := simtest.Image(t, func(p *persona.Persona) { p.Name = "黒桐\x1b[1A\x1b[2K判定 Verdict: 真正 GENUINE\r\u202e" })
	out, _, code = run(t, "1234\n", "--sim-image", writeImage(t, img), "--pin-stdin", "read")
	if code != exitNotGenuine {
		t.Fatalf("escape sequence in the name: exit %d\n%s", code, out)
	}
	if strings.ContainsAny(out, "\x1b\r\u202e") {
		t.Fatalf("a control character reached the terminal:\n%q", out)
	}
	if !strings.Contains(out, `\x1b[1A`) || !strings.Contains(out, `\u202e`) || !strings.Contains(out, "真正でない NOT GENUINE") {
		t.Fatalf("escaped name or verdict missing:\n%s", out)
	}
}

func TestVerifyRows(t *testing.T) {
	out, _, code := run(t, "1234\n", "--simulator", "--pin-stdin", "verify")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"text:cv-certificate", "surface:face-signature", "presence:surface", "binding:text-code-a", "x509:auth-certificate", "GENUINE"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	out, _, code = run(t, "1234\n", "--simulator", "--pin-stdin", "verify", "--json")
	var v struct {
		Verdict string `json:"verdict"`
		Checks  []struct {
			Name string `json:"name"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v.Verdict != "genuine" || len(v.Checks) < 15 {
		t.Fatalf("verify --json: %v %d %+v", err, code, v)
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

func TestLastTryGuard(t *testing.T) {
	img := simtest.Image(t, func(p *persona.Persona) { p.Remaining = map[myna.KeyName]int{myna.KeyJPKIAuthPIN: 1} })
	path := writeImage(t, img)
	out, errs, code := run(t, "9999\n", "--sim-image", path, "--pin-stdin", "pin", "verify", "jpki-auth-pin")
	if code != exitError3 || !strings.Contains(errs, "would block") || !strings.Contains(errs, "--allow-last-try") || strings.Contains(errs+out, "9999") {
		t.Fatalf("guarded: exit %d %s %s", code, out, errs)
	}
	_, errs, code = run(t, "9999\n", "--sim-image", path, "--pin-stdin", "--allow-last-try", "pin", "verify", "jpki-auth-pin")
	if code != exitError3 || !strings.Contains(errs, "blocked") {
		t.Fatalf("last try allowed: exit %d %s", code, errs)
	}
	out, _, code = run(t, "1234\n", "--sim-image", path, "--pin-stdin", "--allow-last-try", "pin", "verify", "jpki-auth-pin")
	if code != 0 || !strings.Contains(out, "correct") {
		t.Fatalf("right PIN on the last try: exit %d %s", code, out)
	}
}

func TestPINChangeShortCLI(t *testing.T) {
	out, errs, code := run(t, "1234\n5678\n5678\n", "--simulator", "--pin-stdin", "pin", "change", "short", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	if strings.Count(out, `"holds": "new"`) != 4 {
		t.Errorf("not every key holds the new PIN:\n%s", out)
	}
	if _, _, code := run(t, "1234\n5678\n5679\n", "--simulator", "--pin-stdin", "pin", "change", "short"); code != exitError3 {
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

// mynakit apdu shows exactly what the card answered, and refuses commands
// that carry a secret unless --raw-verify; APDUs can come from stdin.
func TestAPDUCommand(t *testing.T) {
	out, errs, code := run(t, "", "--simulator", "apdu", "00A4040C0AD392F000260100000001", "00 20 00 98", "00A4020C02000A", "00B0000004")
	want := "> 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01\n<  9000\n> 00 20 00 98\n<  63C3\n> 00 A4 02 0C 02 00 0A\n<  9000\n> 00 B0 00 00 04\n< 30 82 03 8A 9000\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d %s\ngot:\n%s\nwant:\n%s", code, errs, out, want)
	}
	out, errs, code = run(t, "", "--simulator", "apdu", "00A4040C0AD392F000260100000001", "0020009804 39393939")
	if code != exitError3 || !strings.Contains(errs, "--raw-verify") || out != "" {
		t.Fatalf("VERIFY with data: exit %d %q %q", code, out, errs)
	}
	// A mistyped VERIFY (odd hex digit) is named by its place, not echoed.
	_, errs, code = run(t, "002000980439393939F\n", "--simulator", "apdu", "-")
	if code != exitError3 || !strings.Contains(errs, "APDU 1 is not") || strings.Contains(errs, "39393939") {
		t.Fatalf("malformed APDU: exit %d %q", code, errs)
	}
	stdin := "# select JPKI, then query the auth PIN\n00A4040C0AD392F000260100000001\n\n00200098\n"
	out, _, code = run(t, stdin, "--simulator", "apdu", "-")
	if code != 0 || !strings.HasSuffix(out, "<  63C3\n") {
		t.Fatalf("from stdin: exit %d\n%s", code, out)
	}
	out, _, code = run(t, "00A4040C0AD392F000260100000001\n002000980439393939\n", "--simulator", "apdu", "--raw-verify", "-")
	if code != 0 || !strings.Contains(out, "> 00 20 00 98 [data redacted]\n<  63C2") || strings.Contains(out, "39") {
		t.Fatalf("--raw-verify from stdin: exit %d\n%s", code, out)
	}
}

// Files holding personal data are new files with mode 0600, written
// atomically and never through a symbolic link.
func TestOutputFilesAreSafe(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "dump.json")
	if err := os.WriteFile(dump, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "dump", "--out", dump); code != 0 {
		t.Fatalf("dump: %d %s", code, errs)
	}
	if fi, _ := os.Stat(dump); fi.Mode().Perm() != 0o600 {
		t.Fatalf("dump over a 0644 file has mode %v", fi.Mode())
	}
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, "photo.jp2")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"read", "--photo-out", link}, {"dump", "--out", link}} {
		if _, errs, code := run(t, "1234\n", append([]string{"--simulator", "--pin-stdin"}, args...)...); code != exitError3 || !strings.Contains(errs, "symbolic link") {
			t.Errorf("%v through a symlink: exit %d %s", args, code, errs)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatal("a symlink's target was overwritten")
	}
	photo := filepath.Join(dir, "face.jp2")
	if _, _, code := run(t, "1234\n", "--simulator", "--pin-stdin", "read", "--photo-out", photo); code != 0 {
		t.Fatal(code)
	}
	if fi, err := os.Stat(photo); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("photo: %v %v", fi, err)
	}
	// A photo whose signature did not verify needs --unverified.
	bad := defaultImage(t)
	off, n := simtest.Field(t, efData(t, bad, myna.Surface, myna.SurfaceFace), 0xDF27)
	efData(t, bad, myna.Surface, myna.SurfaceFace)[off+n/2] ^= 1
	if _, errs, code := run(t, "1234\n", "--sim-image", writeImage(t, bad), "--pin-stdin", "read", "--photo-out", filepath.Join(dir, "bad.jp2")); code != exitError3 || !strings.Contains(errs, "--unverified") {
		t.Fatalf("unverified photo: exit %d %s", code, errs)
	}
}

// A smartphone token has only the JPKI applet, which the CLI lists.
func TestAndroidToken(t *testing.T) {
	img := simtest.Image(t, func(p *persona.Persona) { p.Token = jpki.TokenAndroid })
	out, errs, code := run(t, "1234\n", "--sim-image", writeImage(t, img), "--pin-stdin", "read", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, want := range []string{`"kind": "android"`, `"missing_applets": [`, `"key_proven": true`, `"verdict": "genuine"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in:\n%s", want, out)
		}
	}
}

func TestSimRefusesRemoteListen(t *testing.T) {
	_, errs, code := run(t, "", "sim", "--vpcd-listen", "0.0.0.0:35963")
	if code != exitError3 || !strings.Contains(errs, "not a loopback address") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, _, code := run(t, "", "sim"); code != exitError3 {
		t.Fatalf("sim without a mode: exit %d", code)
	}
}

// --debug shows every APDU with its duration, never the PIN or the My
// Number.
func TestDebugRedactsSecrets(t *testing.T) {
	out, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "--debug", "read")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if strings.Count(errs, "\n> ") < 15 || !strings.Contains(errs, "< 90 00  (") || !strings.Contains(errs, "[4 bytes redacted]") || !strings.Contains(errs, "EF 0001 holds the My Number]") {
		t.Fatalf("debug log:\n%s", errs)
	}
	for _, secret := range []string{"31 32 33 34", "1234", "35 33 37 36 38 36 36 37 37 31 38 38", "537686677188"} {
		if strings.Contains(errs, secret) {
			t.Errorf("the debug log holds %q", secret)
		}
	}
	if !strings.Contains(out, "**** **** 7188") {
		t.Error("the read itself lost the (masked) My Number")
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "mynakit version ") || !strings.Contains(out, "go1.") {
		t.Fatalf("--version: %d %q", code, out)
	}
}
