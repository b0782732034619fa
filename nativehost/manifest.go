package nativehost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mynakit/mynakit/internal/atomicfile"
)

// HostName is the native-messaging host name the Web eID extension
// connects to. Installing under it makes the extension use mynakit for
// the My Number Card (it replaces the Web eID application on that PC).
const HostName = "eu.webeid"

// Browser is a browser whose native-messaging host manifest can be
// installed.
type Browser string

const (
	Chrome   Browser = "chrome"
	Chromium Browser = "chromium"
	Edge     Browser = "edge"
	Firefox  Browser = "firefox"
)

// Browsers lists every browser Install knows.
var Browsers = []Browser{Chrome, Chromium, Edge, Firefox}

// The Web eID extension's identities in each store: the Chrome Web Store
// (also used by Chromium), the Edge add-ons store, and addons.mozilla.org.
const (
	chromeExtension  = "chrome-extension://ncibgoaomkmdpilpocfeponihegamlic/"
	edgeExtension    = "chrome-extension://gnmckgbandlkacikdndelhfghdejfido/"
	firefoxExtension = "{e68418bc-f2b0-4459-a9ea-3e72b6751b07}"
)

// marker is in the description of every manifest mynakit writes, so
// Uninstall (and a second Install) never touch another program's manifest.
const marker = "mynakit native-messaging host"

// ErrForeignManifest: a manifest under the same host name was written by
// another program (the Web eID application itself, say).
var ErrForeignManifest = errors.New("nativehost: a manifest by another program is installed under this name")

// Target says where and for what a manifest is installed.
type Target struct {
	Browser Browser
	// GOOS is "linux", "darwin" or "windows".
	GOOS string
	// Home is the user's home directory (on Windows, the manifest goes
	// under Home\AppData\Local\mynakit\native-messaging and a registry key
	// under HKCU points at it).
	Home string
	// Executable is the absolute path of the mynakit binary the browser
	// starts; mynakit recognises the browser's arguments and runs the host.
	Executable string
	// Name overrides HostName.
	Name string
}

func (t Target) name() string {
	if t.Name != "" {
		return t.Name
	}
	return HostName
}

// ManifestPath is where t's manifest file lives: each browser's documented
// per-user location on Linux and macOS; on Windows a file of mynakit's own,
// which the registry key names.
func (t Target) ManifestPath() (string, error) {
	file := t.name() + ".json"
	if t.Home == "" {
		return "", errors.New("nativehost: no home directory")
	}
	switch t.GOOS {
	case "linux":
		dir := map[Browser]string{
			Chrome:   ".config/google-chrome/NativeMessagingHosts",
			Chromium: ".config/chromium/NativeMessagingHosts",
			Edge:     ".config/microsoft-edge/NativeMessagingHosts",
			Firefox:  ".mozilla/native-messaging-hosts",
		}[t.Browser]
		if dir == "" {
			return "", fmt.Errorf("nativehost: unknown browser %q (want %s)", t.Browser, browserList())
		}
		return filepath.Join(t.Home, dir, file), nil
	case "darwin":
		dir := map[Browser]string{
			Chrome:   "Library/Application Support/Google/Chrome/NativeMessagingHosts",
			Chromium: "Library/Application Support/Chromium/NativeMessagingHosts",
			Edge:     "Library/Application Support/Microsoft Edge/NativeMessagingHosts",
			Firefox:  "Library/Application Support/Mozilla/NativeMessagingHosts",
		}[t.Browser]
		if dir == "" {
			return "", fmt.Errorf("nativehost: unknown browser %q (want %s)", t.Browser, browserList())
		}
		return filepath.Join(t.Home, dir, file), nil
	case "windows":
		if RegistryKey(t.Browser, t.name()) == "" {
			return "", fmt.Errorf("nativehost: unknown browser %q (want %s)", t.Browser, browserList())
		}
		return filepath.Join(t.Home, "AppData", "Local", "mynakit", "native-messaging", string(t.Browser), file), nil
	}
	return "", fmt.Errorf("nativehost: no manifest location for %s", t.GOOS)
}

// RegistryKey is the HKEY_CURRENT_USER key whose default value names the
// manifest on Windows ("" for an unknown browser).
func RegistryKey(b Browser, name string) string {
	base := map[Browser]string{
		Chrome:   `Software\Google\Chrome\NativeMessagingHosts\`,
		Chromium: `Software\Chromium\NativeMessagingHosts\`,
		Edge:     `Software\Microsoft\Edge\NativeMessagingHosts\`,
		Firefox:  `Software\Mozilla\NativeMessagingHosts\`,
	}[b]
	if base == "" {
		return ""
	}
	return base + name
}

func browserList() string {
	s := make([]string, len(Browsers))
	for i, b := range Browsers {
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

// Manifest is the JSON manifest for t: Chromium-family browsers list the
// extension's origin in allowed_origins, Firefox its id in
// allowed_extensions.
func (t Target) Manifest() ([]byte, error) {
	if !filepath.IsAbs(t.Executable) {
		return nil, fmt.Errorf("nativehost: the executable path must be absolute, not %q", t.Executable)
	}
	m := map[string]any{
		"name":        t.name(),
		"description": marker + " (My Number Card / マイナンバーカード, Web eID protocol)",
		"path":        t.Executable,
		"type":        "stdio",
	}
	switch t.Browser {
	case Chrome, Chromium:
		m["allowed_origins"] = []string{chromeExtension}
	case Edge:
		m["allowed_origins"] = []string{edgeExtension, chromeExtension}
	case Firefox:
		m["allowed_extensions"] = []string{firefoxExtension}
	default:
		return nil, fmt.Errorf("nativehost: unknown browser %q (want %s)", t.Browser, browserList())
	}
	return json.MarshalIndent(m, "", "  ")
}

// Install writes t's manifest (and, on Windows, its registry key). It
// refuses to replace a manifest another program wrote.
func Install(t Target) (string, error) {
	path, err := t.ManifestPath()
	if err != nil {
		return "", err
	}
	body, err := t.Manifest()
	if err != nil {
		return "", err
	}
	if err := checkOwned(path); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	// The manifest is not secret, but a browser refuses one another user
	// can change: 0644, written atomically, never through a link.
	if err := atomicfile.WriteFile(path, append(body, '\n'), 0o644); err != nil {
		return "", err
	}
	if t.GOOS == "windows" {
		if err := setRegistry(RegistryKey(t.Browser, t.name()), path); err != nil {
			return "", err
		}
	}
	return path, nil
}

// Uninstall removes t's manifest and registry key, if mynakit wrote them.
func Uninstall(t Target) (string, error) {
	path, err := t.ManifestPath()
	if err != nil {
		return "", err
	}
	if err := checkOwned(path); err != nil {
		return "", err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if t.GOOS == "windows" {
		if err := deleteRegistry(RegistryKey(t.Browser, t.name())); err != nil {
			return "", err
		}
	}
	return path, nil
}

// checkOwned is nil when path is absent or a manifest mynakit wrote.
func checkOwned(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 64<<10 {
		return fmt.Errorf("%w: %s is not a plain manifest file", ErrForeignManifest, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m struct {
		Description string `json:"description"`
	}
	if json.Unmarshal(b, &m) != nil || !strings.HasPrefix(m.Description, marker) {
		return fmt.Errorf("%w: %s", ErrForeignManifest, path)
	}
	return nil
}

// LaunchedByBrowser reports whether a program's arguments are the ones a
// browser starts a native-messaging host with: Chromium-family browsers
// pass the calling extension's origin (and on Windows a
// --parent-window= argument), Firefox the manifest path and the
// extension's id.
func LaunchedByBrowser(args []string) bool {
	if len(args) == 0 {
		return false
	}
	if strings.HasPrefix(args[0], "chrome-extension://") {
		return true
	}
	return len(args) >= 2 && strings.HasSuffix(args[0], ".json") && strings.HasPrefix(args[1], "{") && strings.HasSuffix(args[1], "}")
}
