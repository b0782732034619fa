package cardap

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// formatCheck passes when nothing in bad, else fails listing it.
func formatCheck(name trust.CheckName, what string, bad []string) trust.Check {
	if len(bad) == 0 {
		return trust.Check{Name: name, Result: trust.Pass, Detail: what + " are laid out as the card reference describes"}
	}
	return trust.Check{Name: name, Result: trust.Fail, Detail: joinProblems(bad)}
}

func joinProblems(p []string) string { return strings.Join(p, "; ") }

// cvCheckOf verifies a parsed CV certificate, or fails for one that did
// not parse or was not read.
func cvCheckOf(cv *CVCertificate, parseErr error, store *trust.Store, role trust.CVRole, name trust.CheckName) trust.Check {
	switch {
	case cv != nil:
		return cv.Verify(store, role, name)
	case parseErr != nil:
		return trust.Check{Name: name, Result: trust.Fail, Detail: "card-verifiable certificate is malformed: " + parseErr.Error()}
	}
	return trust.Check{Name: name, Result: trust.Fail, Detail: "card-verifiable certificate could not be read"}
}

// failed marks ch failed, resting on the same anchor as the CV check (the
// anchor that would have vouched for it).
func failed(ch, cvCheck trust.Check, detail string) trust.Check {
	ch.Anchor, ch.Production = cvCheck.Anchor, cvCheck.Production
	ch.Result, ch.Detail = trust.Fail, detail
	return ch
}

// checkOffsets compares a DF21 offset table with where the fields really
// are: each entry is the absolute offset, from the file's first byte, of
// the tag of one following field (docs/card.md §2.7). kids[0] is DF21.
func checkOffsets(outer tlv.TLV, kids []tlv.TLV) error {
	table := kids[0].Value
	if len(table) != 2*(len(kids)-1) {
		return fmt.Errorf("offset table DF21 has %d entries for %d fields", len(table)/2, len(kids)-1)
	}
	off := len(outer.Raw) - len(outer.Value) + len(kids[0].Raw)
	for i, k := range kids[1:] {
		if got := int(binary.BigEndian.Uint16(table[2*i:])); got != off {
			return fmt.Errorf("offset table DF21 places field %d at %d, but it is at %d", i+1, got, off)
		}
		off += len(k.Raw)
	}
	return nil
}

// checkText rejects what no name or address on a card holds: bytes that are
// not UTF-8, control characters (which a terminal would obey), the Unicode
// bidirectional controls (which reorder what a reader sees), and the empty
// string.
func checkText(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("is empty")
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("is not UTF-8")
	}
	for _, r := range string(b) {
		if unicode.IsControl(r) || isBidiControl(r) || r == utf8.RuneError {
			return fmt.Errorf("contains the control character U+%04X", r)
		}
	}
	return nil
}

// isBidiControl reports the Unicode bidirectional formatting characters.
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// parseSexDigit reads the one-digit JIS X 0303 code (docs/card.md §6.3).
func parseSexDigit(b []byte) (Sex, bool) {
	if len(b) != 1 {
		return SexUnknown, false
	}
	switch b[0] {
	case '0', '1', '2', '9':
		return ParseSex(string(b)), true
	}
	return SexUnknown, false
}
