package pin

import (
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
)

// ErrSecretInAPDU: a raw command would carry a secret (VERIFY, CHANGE
// REFERENCE DATA or CHANGE KEY with data), which a raw channel (the root
// package's Card.Transmit) refuses unless allowed: it bypasses the retry
// guard, and the secret would sit in a command line.
var ErrSecretInAPDU = errors.New("refused: this APDU carries a PIN or password (VERIFY, CHANGE REFERENCE DATA, CHANGE KEY); it bypasses the retry guard")

// CarriesSecret reports whether a command APDU presents or sets a secret:
// VERIFY (00 20) or CHANGE REFERENCE DATA (00 24) with data, or CHANGE KEY
// (80 32) — docs/card.md §3.3, §3.4.
func CarriesSecret(cmd []byte) bool {
	c, err := apdu.ParseCommand(cmd)
	if err != nil {
		return len(cmd) >= 2 && (cmd[1] == 0x20 || cmd[1] == 0x24 || cmd[1] == 0x32)
	}
	switch c.INS {
	case 0x20, 0x24:
		return len(c.Data) > 0
	case 0x32:
		return c.CLA&0x80 != 0
	}
	return false
}

// RefuseSecrets is Card.Transmit's check, for a caller that wants it
// before it opens a card: ErrSecretInAPDU, naming the first command that carries a
// secret, or nil.
func RefuseSecrets(cmds [][]byte) error {
	for i, cmd := range cmds {
		if CarriesSecret(cmd) {
			return fmt.Errorf("APDU %d: %w", i+1, ErrSecretInAPDU)
		}
	}
	return nil
}
