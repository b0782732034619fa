package oqs

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// Encoding is the character encoding of an OQS file. The terminal accepts
// requests in both; results say theirs in CharacterCodeIdentifier
// (OQSCD005: 0 UTF-8, 1 Shift_JIS).
type Encoding int

const (
	// ShiftJIS is Shift_JIS as Windows writes it (code page 932, the
	// Windows-31J superset): the default for requests.
	ShiftJIS Encoding = iota
	// UTF8 is UTF-8.
	UTF8
)

// String returns the name written in the XML declaration.
func (e Encoding) String() string {
	if e == UTF8 {
		return "UTF-8"
	}
	return "Shift_JIS"
}

// CharacterCode is the CharacterCodeIdentifier value for e (OQSCD005).
func (e Encoding) CharacterCode() string {
	if e == UTF8 {
		return "0"
	}
	return "1"
}

// ParseEncoding reads an encoding name as users and XML declarations spell
// it: utf-8, utf8, shift_jis, sjis, cp932, windows-31j, ms932 (any case).
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "utf-8", "utf8":
		return UTF8, nil
	case "shift_jis", "shift-jis", "sjis", "x-sjis", "cp932", "windows-31j", "ms932", "ms_kanji", "csshiftjis":
		return ShiftJIS, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, s)
}

// encodingForCharacterCode maps a CharacterCodeIdentifier value.
func encodingForCharacterCode(code string) (Encoding, bool) {
	switch strings.TrimSpace(code) {
	case "0":
		return UTF8, true
	case "1":
		return ShiftJIS, true
	}
	return 0, false
}

var (
	// ErrUnsupportedEncoding is returned for an XML declaration naming an
	// encoding other than UTF-8 or Shift_JIS.
	ErrUnsupportedEncoding = errors.New("oqs: unsupported encoding")
	// ErrEncodingMismatch is returned when the bytes cannot be what the
	// declaration says (for example Shift_JIS bytes declared UTF-8).
	ErrEncodingMismatch = errors.New("oqs: file bytes do not match the declared encoding")
)

var xmlDecl = regexp.MustCompile(`^<\?xml\s[^?]*\?>`)
var declEncoding = regexp.MustCompile(`encoding\s*=\s*["']([A-Za-z0-9._-]+)["']`)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// detectEncoding reads the encoding from the XML declaration (or a UTF-8
// byte-order mark). Without either the file is UTF-8, as XML says. It also
// returns whether a declaration named the encoding.
func detectEncoding(b []byte) (enc Encoding, declared bool, err error) {
	if bytes.HasPrefix(b, utf8BOM) {
		b = b[len(utf8BOM):]
		if m := declEncoding.FindSubmatch(xmlDecl.Find(b)); m != nil {
			if e, err := ParseEncoding(string(m[1])); err != nil || e != UTF8 {
				return 0, true, fmt.Errorf("%w: UTF-8 byte-order mark but declaration says %s", ErrEncodingMismatch, m[1])
			}
		}
		return UTF8, true, nil
	}
	if len(b) >= 2 && (b[0] == 0xFE && b[1] == 0xFF || b[0] == 0xFF && b[1] == 0xFE) {
		return 0, false, fmt.Errorf("%w: UTF-16", ErrUnsupportedEncoding)
	}
	decl := xmlDecl.Find(b)
	if decl == nil {
		return UTF8, false, nil
	}
	m := declEncoding.FindSubmatch(decl)
	if m == nil {
		return UTF8, false, nil
	}
	e, err := ParseEncoding(string(m[1]))
	return e, true, err
}

// toUTF8 converts a whole file to UTF-8 from enc.
func toUTF8(b []byte, enc Encoding) ([]byte, error) {
	b = bytes.TrimPrefix(b, utf8BOM)
	if enc == UTF8 {
		if !utf8.Valid(b) {
			return nil, fmt.Errorf("%w: declared UTF-8 but not valid UTF-8 (Shift_JIS?)", ErrEncodingMismatch)
		}
		return b, nil
	}
	out, err := japanese.ShiftJIS.NewDecoder().Bytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not valid Shift_JIS: %v", ErrEncodingMismatch, err)
	}
	// The decoder replaces bytes it cannot map with U+FFFD.
	if bytes.ContainsRune(out, utf8.RuneError) && !bytes.ContainsRune(b, utf8.RuneError) {
		return nil, fmt.Errorf("%w: declared Shift_JIS but holds bytes Shift_JIS cannot decode (UTF-8?)", ErrEncodingMismatch)
	}
	return out, nil
}

// UnencodableError reports a value that Shift_JIS cannot hold. Such a value
// is refused rather than written as a numeric character reference, which the
// terminal is not known to resolve.
type UnencodableError struct {
	Element string // the element whose text it is
	Rune    rune
}

func (e *UnencodableError) Error() string {
	return fmt.Sprintf("oqs: %s: character %q (U+%04X) cannot be written in Shift_JIS", e.Element, e.Rune, e.Rune)
}

// checkEncodable returns an *UnencodableError for the first rune of s that
// enc cannot hold.
func checkEncodable(element, s string, enc Encoding) error {
	if enc == UTF8 {
		return nil
	}
	e := japanese.ShiftJIS.NewEncoder()
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		if _, err := e.String(string(r)); err != nil {
			return &UnencodableError{Element: element, Rune: r}
		}
	}
	return nil
}

// fromUTF8 converts a whole document to enc. Callers check every value with
// checkEncodable first so the error names the element.
func fromUTF8(b []byte, enc Encoding) ([]byte, error) {
	if enc == UTF8 {
		return b, nil
	}
	out, err := japanese.ShiftJIS.NewEncoder().Bytes(b)
	if err != nil {
		if errors.Is(err, encoding.ErrInvalidUTF8) {
			return nil, fmt.Errorf("oqs: document is not valid UTF-8: %w", err)
		}
		return nil, fmt.Errorf("oqs: cannot write Shift_JIS: %w", err)
	}
	return out, nil
}
