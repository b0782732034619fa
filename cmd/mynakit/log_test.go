package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/accesslog"
)

// logWith writes n entries to a new access log and returns its folder.
func logWith(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	l, err := accesslog.Open(dir, accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := l.Append(accesslog.Entry{ID: "op", Event: accesslog.Begin, Origin: "https://clinic.example", Action: "read", Data: []string{"text"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// log --verify fails (exit 1) on a log emptied, cut by three entries, or
// rewritten without the key, and names what is wrong.
func TestLogVerifyNamesTruncationAndForgery(t *testing.T) {
	cases := []struct {
		name   string
		damage func(path string)
		want   []string
	}{
		{"emptied", func(p string) { os.Truncate(p, 0) }, []string{"entry 1: missing", "emptied", "6 entries"}},
		{"cut by 3", func(p string) {
			b, _ := os.ReadFile(p)
			ls := bytes.SplitAfter(b, []byte("\n"))
			os.WriteFile(p, bytes.Join(ls[:3], nil), 0o600)
		}, []string{"entry 4: missing", "3 entries are missing at the end (entries 4 to 6)"}},
		{"rewritten without the key", func(p string) {
			b, _ := os.ReadFile(p)
			var out bytes.Buffer
			prev := strings.Repeat("0", 64)
			for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
				var e accesslog.Entry
				json.Unmarshal(line, &e)
				e.Origin, e.Prev, e.Hash = "https://innocent.example", prev, ""
				body, _ := json.Marshal(e)
				sum := sha256.Sum256(body)
				e.Hash = hex.EncodeToString(sum[:])
				out.Write(append(body[:len(body)-1], `,"hash":"`+e.Hash+"\"}\n"...))
				prev = e.Hash
			}
			os.WriteFile(p, out.Bytes(), 0o600)
		}, []string{"entry 1: forged", "entry 6: forged", "without the key", "replaced"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := logWith(t, 6)
			if out, _, code := run(t, "", "log", "--verify", "--access-log", dir); code != 0 || !strings.Contains(out, "intact: 6 entries") {
				t.Fatalf("before: exit %d: %s", code, out)
			}
			c.damage(filepath.Join(dir, accesslog.FileName))
			out, errs, code := run(t, "", "log", "--verify", "--access-log", dir)
			if code != 1 || !strings.Contains(out, "damaged") {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("%q not said:\n%s", w, out)
				}
			}
		})
	}
}
