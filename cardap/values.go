package cardap

import (
	"encoding/json"
	"fmt"

	"github.com/mynakit/mynakit/myna"
)

// MyNumber is a 個人番号. It never prints its digits through fmt (so it
// cannot leak into logs or errors); JSON output, which is what a reader of
// the card asked for, carries them. Reveal returns them explicitly.
type MyNumber string

// Reveal returns the 12 digits.
func (m MyNumber) Reveal() string { return string(m) }

// Valid reports whether m is 12 digits with a correct check digit (card
// reference §8).
func (m MyNumber) Valid() bool { return myna.ValidMyNumber(string(m)) }

// String redacts.
func (m MyNumber) String() string { return "[個人番号 redacted]" }

// Masked is the My Number as a screen or a printout shows it by default:
// all but the last four digits hidden ("**** **** 7188"). The last four
// let a clerk tell two cards apart without showing the number; showing it
// whole is an explicit, logged choice of the caller. Anything that is not
// twelve digits masks to "".
func (m MyNumber) Masked() string {
	if len(m) != 12 || !m.digits() {
		return ""
	}
	return "**** **** " + string(m[8:])
}

// Grouped is the whole My Number in groups of four ("1234 5678 9012"),
// for a caller that chose to reveal it.
func (m MyNumber) Grouped() string {
	if len(m) != 12 || !m.digits() {
		return ""
	}
	return string(m[:4]) + " " + string(m[4:8]) + " " + string(m[8:])
}

func (m MyNumber) digits() bool {
	for i := 0; i < len(m); i++ {
		if m[i] < '0' || m[i] > '9' {
			return false
		}
	}
	return true
}

// GoString redacts.
func (m MyNumber) GoString() string { return m.String() }

// Format redacts for every verb.
func (m MyNumber) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(m.String())) }

// MarshalJSON writes the digits.
func (m MyNumber) MarshalJSON() ([]byte, error) { return json.Marshal(string(m)) }

// Sex is the holder's sex as coded on the card (JIS X 0303, docs/card.md §6.3).
type Sex string

const (
	Male          Sex = "male"           // 1
	Female        Sex = "female"         // 2
	NotApplicable Sex = "not-applicable" // 9
	SexUnknown    Sex = "unknown"        // 0 or anything else
)

// ParseSex maps the card's digit.
func ParseSex(d string) Sex {
	switch d {
	case "1":
		return Male
	case "2":
		return Female
	case "9":
		return NotApplicable
	}
	return SexUnknown
}

// Japanese is the label printed on the card.
func (s Sex) Japanese() string {
	switch s {
	case Male:
		return "男"
	case Female:
		return "女"
	case NotApplicable:
		return "適用不能"
	}
	return "不明"
}

// ParseDate reads the card's YYYYMMDD, checking it is a real date. The
// error never quotes the bytes (a birth date is personal data).
func ParseDate(b []byte) (myna.Date, error) {
	if !myna.Digits(string(b), 8) {
		return myna.Date{}, fmt.Errorf("is not 8 digits")
	}
	d, err := myna.ParseCompactDate(string(b))
	if err != nil {
		return myna.Date{}, fmt.Errorf("is not a calendar date")
	}
	return d, nil
}
