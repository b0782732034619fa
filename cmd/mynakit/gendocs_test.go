package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gen-docs writes a man page per visible command and the three
// completions, dated by SOURCE_DATE_EPOCH so two runs give the same bytes.
func TestGenDocsIsReproducible(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	var pages [2][]byte
	for i := range pages {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		root := newRootCmd(strings.NewReader(""), &out, &errb)
		root.SetArgs([]string{"gen-docs", dir})
		if err := root.Execute(); err != nil {
			t.Fatalf("%v %s", err, errb.String())
		}
		for _, f := range []string{"man/man1/mynakit-serve.1", "completions/mynakit.bash", "completions/_mynakit", "completions/mynakit.fish", "native-messaging/linux/firefox.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "man/man1/mynakit-gen-docs.1")); err == nil {
			t.Fatal("the hidden gen-docs command got a man page")
		}
		b, err := os.ReadFile(filepath.Join(dir, "man/man1/mynakit.1"))
		if err != nil {
			t.Fatal(err)
		}
		pages[i] = b
	}
	if !bytes.Equal(pages[0], pages[1]) || !bytes.Contains(pages[0], []byte("Nov 2023")) {
		t.Fatalf("man page not reproducible or not dated by SOURCE_DATE_EPOCH:\n%.400s", pages[0])
	}
}

// The packaged manifests name the installed binary: /usr/bin/mynakit in
// the .deb, mynakit.exe beside the manifest in the MSI.
func TestGenDocsManifests(t *testing.T) {
	dir := t.TempDir()
	if err := genManifests(dir); err != nil {
		t.Fatal(err)
	}
	for goos, want := range map[string]string{"linux": "/usr/bin/mynakit", "windows": "mynakit.exe"} {
		b, err := os.ReadFile(filepath.Join(dir, goos, "chrome.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Name, Path     string
			AllowedOrigins []string `json:"allowed_origins"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Path != want || m.Name != "eu.webeid" || len(m.AllowedOrigins) == 0 {
			t.Fatalf("%s: %+v %v\n%s", goos, m, err, b)
		}
	}
}
