package myna

import (
	"errors"
	"fmt"
	"time"
)

// Date is a calendar day as the card writes it (a birth date, an expiry):
// no time of day and no time zone. The zero Date means "not known" and
// prints as "".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ErrDate is what ParseDate and ParseCompactDate wrap when the text is not
// a calendar date.
var ErrDate = errors.New("not a calendar date")

// ParseDate reads "YYYY-MM-DD" (exactly ten characters, a real Gregorian
// day, year 1868 or later: the card has no earlier dates).
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%w: not YYYY-MM-DD", ErrDate)
	}
	return ParseCompactDate(s[0:4] + s[5:7] + s[8:10])
}

// ParseCompactDate reads "YYYYMMDD", the form the card stores (card
// reference §3), with the same rules as ParseDate.
func ParseCompactDate(s string) (Date, error) {
	if !Digits(s, 8) {
		return Date{}, fmt.Errorf("%w: not 8 digits", ErrDate)
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := time.Month(int(s[4]-'0')*10 + int(s[5]-'0'))
	d := int(s[6]-'0')*10 + int(s[7]-'0')
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if y < 1868 || t.Year() != y || t.Month() != m || t.Day() != d {
		return Date{}, fmt.Errorf("%w: no such day", ErrDate)
	}
	return Date{y, m, d}, nil
}

// DateOf is the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is unknown.
func (d Date) IsZero() bool { return d == Date{} }

// String is "YYYY-MM-DD", or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Compact is "YYYYMMDD", the card's own form, or "" for the zero Date.
func (d Date) Compact() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day)
}

// In is the first instant of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Time is the first instant of d in UTC (for era conversion and
// formatting; use In for an instant in Japan's time zone).
func (d Date) Time() time.Time { return d.In(time.UTC) }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return e.Before(d) }

// MarshalText is String: the JSON form is the string "YYYY-MM-DD", or ""
// for the zero Date (tag a field `omitzero` to leave it out instead).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText takes what MarshalText gives: "YYYY-MM-DD", or "" for the
// zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
