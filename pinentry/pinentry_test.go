package pinentry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// fake writes a pinentry stand-in: it logs the commands it got to a file
// and answers GETPIN with the given reply lines.
func fake(t *testing.T, getpin string) (prog, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "log")
	prog = filepath.Join(dir, "pinentry")
	script := `#!/bin/sh
echo "OK Pleased to meet you"
while read -r cmd rest; do
  echo "$cmd $rest" >> "` + log + `"
  case "$cmd" in
    GETPIN) printf '%s\n' ` + getpin + ` ;;
    BYE) echo OK; exit 0 ;;
    *) echo OK ;;
  esac
done
`
	if err := os.WriteFile(prog, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return prog, log
}

func TestPromptReturnsTheDecodedSecret(t *testing.T) {
	prog, log := fake(t, `"D 12%2534" "OK"`)
	p := &Prompter{Program: prog, Describe: func(context.Context, pin.Request) string {
		return "https://portal.example.jp が\nログインを求めています"
	}}
	got, err := p.Prompt(context.Background(), pin.Request{Kind: myna.ShortPIN, Remaining: 3})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "12%34" {
		t.Fatalf("secret = %q", got)
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "SETDESC https://portal.example.jp が%0Aログインを求めています") {
		t.Fatalf("the dialog did not get the escaped description:\n%s", b)
	}
	if !strings.Contains(string(b), "GETPIN") || !strings.Contains(string(b), "BYE") {
		t.Fatalf("conversation:\n%s", b)
	}
}

func TestCancelIsTyped(t *testing.T) {
	prog, _ := fake(t, `"ERR 83886179 Operation cancelled <Pinentry>"`)
	mine := errors.New("holder cancelled")
	p := &Prompter{Program: prog, Cancelled: mine}
	_, err := p.Prompt(context.Background(), pin.Request{Kind: myna.ShortPIN})
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, mine) {
		t.Fatalf("err = %v, want ErrCancelled wrapped in the caller's error", err)
	}
}

func TestMissingProgramIsAnError(t *testing.T) {
	p := &Prompter{Program: filepath.Join(t.TempDir(), "none")}
	if _, err := p.Prompt(context.Background(), pin.Request{Kind: myna.ShortPIN}); err == nil {
		t.Fatal("no error for a missing pinentry")
	}
}
