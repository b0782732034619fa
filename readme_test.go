package mynakit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeLibrarySnippetRuns extracts the README's library example — a
// complete program — and runs it against this checkout: a new user can
// paste it as it is.
func TestReadmeLibrarySnippetRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## The library")
	if i < 0 {
		t.Fatal("README has no library section")
	}
	j := strings.Index(s[i:], "```go\n")
	if j < 0 {
		t.Fatal("the library section has no Go example")
	}
	code := s[i+j+len("```go\n"):]
	code = code[:strings.Index(code, "```")]
	if !strings.HasPrefix(code, "package main") {
		t.Fatalf("the example is not a complete program:\n%s", code)
	}
	// A dot-directory inside the module: the go command builds it with this
	// checkout's packages, and ./... never sees it.
	dir, err := os.MkdirTemp(".", ".readme-example-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "run", "./"+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("the README example does not run: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "黒桐　幹也 genuine" {
		t.Fatalf("the README example printed %q", got)
	}
}
