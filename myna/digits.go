package myna

// Digits reports whether s is exactly n ASCII digits: the form of every
// number the card stores (My Number, PINs, codes, dates, serials).
func Digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
