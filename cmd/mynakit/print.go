package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
	"golang.org/x/term"

	"github.com/mynakit/mynakit/trust"
)

// safe makes text read from a card (or any untrusted source) harmless on a
// terminal: control characters (which a terminal obeys: escape sequences,
// carriage returns that overwrite a line), the Unicode bidirectional and
// line-separator controls (which reorder or split what is seen) and bytes
// that are not UTF-8 are shown escaped, as \x1b or \u202e. JSON output is
// not escaped this way; it is exact.
func safe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && (r < 0x20 || r == 0x7F):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// termWidth is the output's width in columns when it is a terminal, else 0
// (no wrapping).
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// table prints rows in columns aligned by display width (kanji and
// full-width forms take two columns), wrapping the last column to width
// when width > 0. Every cell is passed through safe.
type table struct {
	rows   [][]string
	indent string
	width  int
}

func (t *table) add(cells ...string) {
	for i := range cells {
		cells[i] = safe(cells[i])
	}
	t.rows = append(t.rows, cells)
}

func (t *table) write(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			if i < len(r)-1 {
				widths[i] = max(widths[i], runewidth.StringWidth(c))
			}
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		b.WriteString(t.indent)
		for i, c := range r[:len(r)-1] {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+2))
		}
		prefix := runewidth.StringWidth(b.String())
		last := r[len(r)-1]
		lines := []string{last}
		if t.width > 0 && prefix+runewidth.StringWidth(last) > t.width && t.width-prefix >= 20 {
			lines = wrap(last, t.width-prefix)
		}
		for i, l := range lines {
			if i == 0 {
				fmt.Fprintln(w, strings.TrimRight(b.String()+l, " "))
			} else {
				fmt.Fprintln(w, strings.Repeat(" ", prefix)+l)
			}
		}
	}
}

// wrap breaks s into lines of at most width columns, at spaces where it can.
func wrap(s string, width int) []string {
	var lines []string
	for runewidth.StringWidth(s) > width {
		cut, w := 0, 0
		lastSpace := -1
		for i, r := range s {
			rw := runewidth.RuneWidth(r)
			if w+rw > width {
				break
			}
			w += rw
			cut = i + utf8.RuneLen(r)
			if r == ' ' {
				lastSpace = i
			}
		}
		if lastSpace > 0 {
			cut = lastSpace
		}
		lines = append(lines, strings.TrimRight(s[:cut], " "))
		s = strings.TrimLeft(s[cut:], " ")
	}
	return append(lines, s)
}

func writeJSON(a *app, v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// exitFor maps a verdict to the documented exit statuses.
func exitFor(v trust.Verdict) error {
	switch v {
	case trust.Genuine:
		return nil
	case trust.GenuineExpired:
		return &exitError{code: exitGenuineExpired}
	case trust.NotGenuine:
		return &exitError{code: exitNotGenuine}
	}
	return &exitError{code: exitUnknown}
}

func printChecks(a *app, checks []trust.Check) {
	tw := &table{width: termWidth(a.out)}
	tw.add("CHECK", "RESULT", "DETAIL", "ANCHOR")
	for _, c := range checks {
		res := strings.ToUpper(string(c.Result))
		if c.Expired {
			res += " (EXPIRED)"
		}
		tw.add(string(c.Name), res, c.Detail, anchorLabel(c))
	}
	tw.write(a.out)
}

// anchorLabel names a check's anchor, marking test anchors.
func anchorLabel(c trust.Check) string {
	switch {
	case c.Anchor == "":
		return "-"
	case c.Production:
		return c.Anchor
	}
	return "[TEST] " + c.Anchor
}

// verdictLine is the verdict as a clerk reads it: Japanese and English, the
// failed or unknown checks named, the anchors listed with test anchors
// marked so a verdict on them can never pass for one on J-LIS's keys.
func verdictLine(v trust.Verdict, checks []trust.Check) string {
	seen := map[string]bool{}
	var anchors []string
	test := false
	for _, c := range checks {
		if c.Anchor != "" && !seen[c.Anchor] {
			seen[c.Anchor] = true
			if c.Production {
				anchors = append(anchors, safe(c.Anchor)+" (J-LIS production)")
			} else {
				anchors = append(anchors, safe(c.Anchor)+" (TEST anchor)")
				test = true
			}
		}
	}
	var failed, expired []string
	for _, c := range checks {
		if c.Result != trust.Pass {
			failed = append(failed, string(c.Name))
		}
		if c.Expired {
			expired = append(expired, string(c.Name))
		}
	}
	testNote := ""
	if test {
		testNote = " — テスト用アンカー TEST ANCHORS: not J-LIS production keys"
	}
	var line string
	switch v {
	case trust.Genuine:
		line = fmt.Sprintf("判定 Verdict: 真正 GENUINE%s — all %d checks passed", testNote, len(checks))
	case trust.GenuineExpired:
		line = fmt.Sprintf("判定 Verdict: 真正・期限切れ GENUINE, EXPIRED OR REVOKED%s — expired or revoked: %s", testNote, strings.Join(expired, ", "))
	case trust.NotGenuine:
		line = fmt.Sprintf("判定 Verdict: 真正でない NOT GENUINE — failed or unverifiable: %s", strings.Join(failed, ", "))
	default:
		line = fmt.Sprintf("判定 Verdict: 不明 UNKNOWN — could not check: %s", strings.Join(failed, ", "))
	}
	if len(anchors) > 0 && (v == trust.Genuine || v == trust.GenuineExpired) {
		line += "; rests on:\n  - " + strings.Join(anchors, "\n  - ")
	}
	return line
}
