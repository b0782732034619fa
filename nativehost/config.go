package nativehost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// Config is the host's per-user settings file, for the case a browser
// starts the host (browsers pass no options).
type Config struct {
	// Reader is the PC/SC reader to use ("" the first with a card).
	Reader string `json:"reader,omitempty"`
	// Pinentry is the PIN dialog program ("" pinentry on PATH).
	Pinentry string `json:"pinentry,omitempty"`
	// DigestOrigins may have bare digests signed with the signing key.
	DigestOrigins []string `json:"digest_origins,omitempty"`
}

// maxConfig bounds the settings file read.
const maxConfig = 64 << 10

// DefaultConfigPath is native-host.json in the user's mynakit config
// directory.
func DefaultConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "mynakit", "native-host.json"), nil
}

// LoadConfig reads the settings file; a missing file is the zero Config.
// Only a regular file is read, and only so much of it.
func LoadConfig(path string) (Config, error) {
	var c Config
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if !fi.Mode().IsRegular() {
		return c, fmt.Errorf("nativehost: %s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfig+1))
	if err != nil {
		return c, err
	}
	if len(b) > maxConfig {
		return c, fmt.Errorf("nativehost: %s is larger than %d bytes", path, maxConfig)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("nativehost: %s: %w", path, err)
	}
	return c, nil
}

// Describe is the PIN dialog's text: which site asks, for what, and what
// the secret will do, in Japanese and English.
func Describe(ctx context.Context, req pin.Request) string {
	origin := OriginFrom(ctx)
	if origin == "" {
		origin = "(不明なサイト unknown site)"
	}
	switch req.Kind {
	case myna.SignPassword:
		return origin + " が署名用電子証明書での電子署名を求めています。\n" +
			origin + " asks for a signature with your signing certificate (署名用パスワード, 6–16 characters)."
	default:
		return origin + " がマイナンバーカードでのログインを求めています。\n" +
			origin + " asks you to log in with your My Number Card (利用者証明用暗証番号, 4 digits)."
	}
}
