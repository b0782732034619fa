package qr

import (
	"fmt"
	"strings"
)

// Base45 (RFC 9285) writes bytes with the 45 characters of the QR code's
// alphanumeric mode, so a QR decoder hands them back exactly, whatever it
// makes of byte-mode text encodings. Every two bytes become three
// characters (a trailing single byte two): 1.5 characters of 5.5 bits, 3 %
// more than byte mode.
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

func base45Encode(b []byte) string {
	var s strings.Builder
	s.Grow(len(b)/2*3 + 2)
	for i := 0; i+1 < len(b); i += 2 {
		n := int(b[i])<<8 | int(b[i+1])
		s.WriteByte(base45Alphabet[n%45])
		s.WriteByte(base45Alphabet[n/45%45])
		s.WriteByte(base45Alphabet[n/2025])
	}
	if len(b)%2 == 1 {
		n := int(b[len(b)-1])
		s.WriteByte(base45Alphabet[n%45])
		s.WriteByte(base45Alphabet[n/45])
	}
	return s.String()
}

// base45Decode is strict: characters outside the alphabet, a length that
// leaves one character over, and groups whose value does not fit their
// bytes are errors.
func base45Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, fmt.Errorf("base45 text of %d characters", len(s))
	}
	val := func(c byte) (int, error) {
		i := strings.IndexByte(base45Alphabet, c)
		if i < 0 {
			return 0, fmt.Errorf("character %q is not base45", c)
		}
		return i, nil
	}
	out := make([]byte, 0, len(s)/3*2+1)
	for i := 0; i < len(s); i += 3 {
		if len(s)-i == 2 {
			c, err := val(s[i])
			if err != nil {
				return nil, err
			}
			d, err := val(s[i+1])
			if err != nil {
				return nil, err
			}
			n := c + d*45
			if n > 0xFF {
				return nil, fmt.Errorf("base45 group %q exceeds one byte", s[i:])
			}
			return append(out, byte(n)), nil
		}
		n := 0
		for j := 2; j >= 0; j-- {
			v, err := val(s[i+j])
			if err != nil {
				return nil, err
			}
			n = n*45 + v
		}
		if n > 0xFFFF {
			return nil, fmt.Errorf("base45 group %q exceeds two bytes", s[i:i+3])
		}
		out = append(out, byte(n>>8), byte(n))
	}
	return out, nil
}
