package main

import (
	"strings"
	"testing"

	"github.com/mynakit/mynakit/oqs"
)

// Missing or wrong arguments list the valid values, in both languages, and
// a bad --sim-image names the flag and the file.
func TestArgumentErrorsListTheValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"cert", "show"}, []string{"証明書", "auth, sign"}},
		{[]string{"cert", "show", "both"}, []string{"auth, sign"}},
		{[]string{"pin", "verify"}, []string{"鍵", "jpki-auth-pin", "surface-code-b"}},
		{[]string{"pin", "change"}, []string{"short, sign"}},
		{[]string{"--sim-image", "/nonexistent/card.json", "read"}, []string{"--sim-image", "/nonexistent/card.json", "ファイルがありません"}},
	} {
		_, errs, code := run(t, "", c.args...)
		if code != exitError3 {
			t.Errorf("%v: exit %d", c.args, code)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: error does not say %q:\n%s", c.args, w, errs)
			}
		}
	}
}

// A secret refused for the same reason by two keys is reported once.
func TestNoPromptSaidOnce(t *testing.T) {
	_, errs, code := run(t, "", "--simulator", "read")
	if code != exitError3 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(errs, "secret needed but no prompt available"); n != 1 {
		t.Fatalf("said %d times:\n%s", n, errs)
	}
}

// The My Number is masked on the screen unless --show-my-number is given;
// the JSON contract keeps it whole.
func TestMyNumberMaskedByDefault(t *testing.T) {
	out, errs, code := run(t, "1234\n", "--simulator", "--pin-stdin", "read")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "**** **** 7188") || strings.Contains(out, "5376") {
		t.Fatalf("the My Number is not masked:\n%s", out)
	}
	out, _, _ = run(t, "1234\n", "--simulator", "--pin-stdin", "read", "--show-my-number")
	if !strings.Contains(out, "5376 8667 7188") {
		t.Fatalf("--show-my-number does not show it:\n%s", out)
	}
	out, _, _ = run(t, "1234\n", "--simulator", "--pin-stdin", "read", "--json")
	if !strings.Contains(out, `"537686677188"`) {
		t.Fatal("the JSON lost the My Number")
	}
}

// A mismatch line shows names as they are written (an ideographic space
// stays a space, not \u3000), with control characters still escaped.
func TestFaceMismatchLineShowsNamesPlainly(t *testing.T) {
	var b strings.Builder
	printFaceResult(&b, oqs.FaceResult{Name: "f.xml"}, &oqs.Eligibility{}, []oqs.Disagreement{{Field: "name", Card: "黒桐　幹也", Result: "黒桐　幹\x1b[2J", Detail: "name differs"}})
	out := b.String()
	if !strings.Contains(out, "「黒桐　幹也」") || strings.Contains(out, `\u3000`) || strings.Contains(out, "\x1b") {
		t.Fatalf("mismatch line:\n%s", out)
	}
}
