package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// displayWidth counts terminal columns: East Asian wide and full-width
// characters (kanji, kana, full-width forms, the ideographic space) take two.
func displayWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case r >= 0x3000 && r <= 0x30FF, unicode.Is(unicode.Han, r),
			r >= 0xFF01 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
			w += 2
		default:
			w++
		}
	}
	return w
}

// table prints rows in columns aligned by display width, so Japanese
// labels line up (text/tabwriter counts runes, not columns).
type table struct {
	rows   [][]string
	indent string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		b.WriteString(t.indent)
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
