package webeid

import (
	"testing"

	"github.com/mynakit/mynakit/internal/golden"
)

// TestTokenJSONGolden: the token `mynakit authenticate --json` prints (and
// the bridge returns) has exactly Web eID's member names, fixed by a
// golden file.
func TestTokenJSONGolden(t *testing.T) {
	tok := Token{UnverifiedCertificate: "MIIBCERT", Algorithm: RS256, Signature: "c2lnbmF0dXJl", Format: Format, AppVersion: AppVersion}
	golden.Check(t, "token.golden.json", golden.Indented(t, tok))
}
