package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator/persona"
)

func imageWith(t *testing.T, edit func(p *persona.Persona)) string {
	t.Helper()
	return writeImage(t, simtest.Image(t, edit))
}

// A card whose 住基 PIN differs from the others refuses the change at the
// last key; the report names every key and what it holds.
func TestPINChangeRefusedPartWayCLI(t *testing.T) {
	path := imageWith(t, func(p *persona.Persona) { p.PINs.Juki = "4321" })
	out, errs, code := run(t, "1234\n5678\n5678\n", "--sim-image", path, "--pin-stdin", "pin", "change", "short", "--json")
	if code != exitUsageOrCard {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	var rep struct {
		Keys []struct {
			Name, Holds, Error string
			Attempted          bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]string{"jpki-auth-pin": "new", "text-pin": "new", "common-pin": "new", "juki-pin": "old"}
	if len(rep.Keys) != len(want) {
		t.Fatalf("report %+v", rep.Keys)
	}
	for _, k := range rep.Keys {
		if k.Holds != want[k.Name] || !k.Attempted {
			t.Errorf("%s: %+v", k.Name, k)
		}
		if (k.Error != "") != (k.Name == "juki-pin") {
			t.Errorf("%s: error %q", k.Name, k.Error)
		}
	}
	// The human report says the same, one line per key.
	out, _, _ = run(t, "1234\n5678\n5678\n", "--sim-image", path, "--pin-stdin", "pin", "change", "short")
	for name, holds := range want {
		if !strings.Contains(out, name) || !strings.Contains(out, "holds the "+holds+" value") {
			t.Errorf("no %s / %s in:\n%s", name, holds, out)
		}
	}
	if !strings.Contains(out, "juki-pin") || !strings.Contains(out, "refused") {
		t.Errorf("the refusal is not shown:\n%s", out)
	}
}

// The new PIN is checked before anything reaches the card: with a wrong
// current PIN and a malformed new one, the error is about the new one (a
// VERIFY would have reported the wrong PIN).
func TestPINChangeValidatesBeforeSending(t *testing.T) {
	for _, in := range []string{"9999\n12a4\n12a4\n", "9999\n5678\n5679\n"} {
		out, errs, code := run(t, in, "--simulator", "--pin-stdin", "pin", "change", "short")
		if code != exitUsageOrCard || !strings.Contains(errs, "nothing was changed") || strings.Contains(errs, "wrong") || out != "" {
			t.Errorf("%q: exit %d, out %q, err %q", in, code, out, errs)
		}
	}
	_, errs, code := run(t, "abc12\n", "--simulator", "--pin-stdin", "pin", "change", "sign")
	if code != exitUsageOrCard || !strings.Contains(errs, "6 to 16") {
		t.Errorf("short password: exit %d %s", code, errs)
	}
}

func TestPINChangeSignCLI(t *testing.T) {
	out, errs, code := run(t, "abc123\nnewpass9\nNEWPASS9\n", "--simulator", "--pin-stdin", "pin", "change", "sign")
	if code != 0 || !strings.Contains(out, "jpki-sign-password") || !strings.Contains(out, "holds the new value") {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
}

// TestNoSecretInFailedRuns: failed runs of every PIN path print no secret
// on stdout or stderr, whatever the failure.
func TestNoSecretInFailedRuns(t *testing.T) {
	guarded := imageWith(t, func(p *persona.Persona) {
		p.Remaining = map[myna.KeyName]int{"jpki-auth-pin": 1, "jpki-sign-password": 1}
		p.PINs.Juki = "4321"
	})
	runs := []struct {
		stdin string
		args  []string
	}{
		{"9876\n", []string{"--simulator", "read", "--only", "text,surface,jpki"}},
		{"9876\n", []string{"--sim-image", guarded, "pin", "verify", "jpki-auth-pin"}},
		{"ZYX987\n", []string{"--sim-image", guarded, "pin", "verify", "jpki-sign-password"}},
		{"ZYX987\n", []string{"--simulator", "pin", "verify", "jpki-sign-password"}},
		{"537686677189\n", []string{"--simulator", "pin", "verify", "surface-code-a"}},
		{"55021720359999\n", []string{"--simulator", "pin", "verify", "surface-code-b"}},
		{"1234\n8765\n8765\n", []string{"--sim-image", guarded, "--allow-last-try", "pin", "change", "short"}},
		{"1234\n8765\n8766\n", []string{"--simulator", "pin", "change", "short"}},
		{"9876\n8765\n8765\n", []string{"--simulator", "pin", "change", "short", "--json"}},
		{"1234\n87a5\n87a5\n", []string{"--simulator", "pin", "change", "short"}},
	}
	secrets := []string{"9876", "ZYX987", "537686677189", "55021720359999", "8765", "8766", "87a5", "4321"}
	for _, r := range runs {
		out, errs, code := run(t, r.stdin, append([]string{"--pin-stdin"}, r.args...)...)
		if code == 0 {
			t.Errorf("%v succeeded; the test wants failed runs", r.args)
		}
		if errs == "" {
			t.Errorf("%v: no error message", r.args)
		}
		for _, s := range secrets {
			if strings.Contains(out+errs, s) {
				t.Errorf("%v: secret %q in the output:\n%s\n%s", r.args, s, out, errs)
			}
		}
	}
}
