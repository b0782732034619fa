package myna

import (
	"fmt"
	"time"
)

// Era is a Japanese era (元号). Its value is the era digit the JPKI signing
// certificate uses in its birth-date attribute (docs/card.md §5.2).
type Era int

const (
	EraUnknown Era = 0
	Meiji      Era = 1 // 明治
	Taisho     Era = 2 // 大正
	Showa      Era = 3 // 昭和
	Heisei     Era = 4 // 平成
	Reiwa      Era = 5 // 令和
)

// eraStarts are the first days of each era (docs/card.md §3.6), newest first.
var eraStarts = []struct {
	era   Era
	start time.Time
}{
	{Reiwa, time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC)},
	{Heisei, time.Date(1989, 1, 8, 0, 0, 0, 0, time.UTC)},
	{Showa, time.Date(1926, 12, 25, 0, 0, 0, 0, time.UTC)},
	{Taisho, time.Date(1912, 7, 30, 0, 0, 0, 0, time.UTC)},
	{Meiji, time.Date(1868, 1, 25, 0, 0, 0, 0, time.UTC)},
}

func (e Era) String() string {
	switch e {
	case Meiji:
		return "明治"
	case Taisho:
		return "大正"
	case Showa:
		return "昭和"
	case Heisei:
		return "平成"
	case Reiwa:
		return "令和"
	}
	return "unknown era"
}

// EraOf returns the era and era year of a calendar date. Only the year,
// month and day of d are used. Dates before Meiji are an error.
func EraOf(d time.Time) (Era, int, error) {
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	for _, e := range eraStarts {
		if !day.Before(e.start) {
			return e.era, day.Year() - e.start.Year() + 1, nil
		}
	}
	return EraUnknown, 0, fmt.Errorf("date %s is before the Meiji era", day.Format("2006-01-02"))
}

// EraYYMMDD formats a birth date the way 照合番号B and the 券面事項確認AP
// birth key want it: era year, month, day, two digits each
// (1980-02-17 → "550217"; docs/card.md §3.6).
func EraYYMMDD(d time.Time) (string, error) {
	_, y, err := EraOf(d)
	if err != nil {
		return "", err
	}
	if y > 99 {
		return "", fmt.Errorf("era year %d does not fit two digits", y)
	}
	return fmt.Sprintf("%02d%02d%02d", y, int(d.Month()), d.Day()), nil
}

// CheckDigit computes the 12th digit of a My Number from its first 11
// (総務省令第八十五号 第五条; docs/card.md §8). ok is false when first11 is
// not 11 ASCII digits.
func CheckDigit(first11 string) (digit byte, ok bool) { return checkDigit(first11) }

// checkDigit serves both strings and byte slices, so that secrets held as
// wipeable bytes need no string copy.
func checkDigit[T string | []byte](first11 T) (digit byte, ok bool) {
	if len(first11) != 11 {
		return 0, false
	}
	weights := [11]int{6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := 0; i < 11; i++ {
		c := first11[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * weights[i]
	}
	r := sum % 11
	if r <= 1 {
		return '0', true
	}
	return byte('0' + 11 - r), true
}

// ValidMyNumber reports whether s is 12 ASCII digits with a correct check digit.
func ValidMyNumber(s string) bool { return validMyNumber(s) }

// ValidMyNumberBytes is ValidMyNumber for a secret held as bytes; it makes no
// copy of them.
func ValidMyNumberBytes(b []byte) bool { return validMyNumber(b) }

func validMyNumber[T string | []byte](s T) bool {
	if len(s) != 12 {
		return false
	}
	d, ok := checkDigit(s[:11])
	return ok && d == s[11]
}
