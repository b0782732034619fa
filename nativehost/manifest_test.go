package nativehost

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestInstallWritesEachBrowsersManifest(t *testing.T) {
	home := t.TempDir()
	want := map[Browser]string{
		Chrome:   ".config/google-chrome/NativeMessagingHosts/eu.webeid.json",
		Chromium: ".config/chromium/NativeMessagingHosts/eu.webeid.json",
		Edge:     ".config/microsoft-edge/NativeMessagingHosts/eu.webeid.json",
		Firefox:  ".mozilla/native-messaging-hosts/eu.webeid.json",
	}
	for _, b := range Browsers {
		tg := Target{Browser: b, GOOS: "linux", Home: home, Executable: "/usr/bin/mynakit"}
		path, err := Install(tg)
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(home, want[b]) {
			t.Errorf("%s: %s", b, path)
		}
		raw, _ := os.ReadFile(path)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m["name"] != "eu.webeid" || m["path"] != "/usr/bin/mynakit" || m["type"] != "stdio" {
			t.Errorf("%s manifest: %s", b, raw)
		}
		_, origins := m["allowed_origins"]
		_, exts := m["allowed_extensions"]
		if (b == Firefox) != exts || (b != Firefox) != origins {
			t.Errorf("%s manifest lists the wrong kind of caller: %s", b, raw)
		}
		if _, err := Uninstall(tg); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: manifest still there after uninstall", b)
		}
	}
	mac, _ := Target{Browser: Chrome, GOOS: "darwin", Home: "/Users/u"}.ManifestPath()
	if mac != "/Users/u/Library/Application Support/Google/Chrome/NativeMessagingHosts/eu.webeid.json" {
		t.Errorf("macOS: %s", mac)
	}
	if RegistryKey(Edge, HostName) != `Software\Microsoft\Edge\NativeMessagingHosts\eu.webeid` {
		t.Errorf("registry key: %s", RegistryKey(Edge, HostName))
	}
}

func TestInstallLeavesAnotherProgramsManifest(t *testing.T) {
	home := t.TempDir()
	tg := Target{Browser: Firefox, GOOS: "linux", Home: home, Executable: "/usr/bin/mynakit"}
	path, _ := tg.ManifestPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	theirs := []byte(`{"name":"eu.webeid","description":"Web-eid native application","path":"/usr/bin/web-eid"}`)
	if err := os.WriteFile(path, theirs, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(tg); !errors.Is(err, ErrForeignManifest) {
		t.Fatalf("install over the Web eID app's manifest: %v", err)
	}
	if _, err := Uninstall(tg); !errors.Is(err, ErrForeignManifest) {
		t.Fatalf("uninstall of the Web eID app's manifest: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(theirs) {
		t.Fatal("the other program's manifest was changed")
	}
	if _, err := Install(Target{Browser: Chrome, GOOS: "linux", Home: home, Executable: "mynakit"}); err == nil {
		t.Fatal("a relative executable path was accepted")
	}
}
