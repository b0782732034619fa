package qr

import (
	"bytes"
	"testing"
)

// FuzzDecode: the payload decoder never panics, and whatever it accepts
// re-encodes to the same bytes (it accepts only deterministic CBOR) and
// verifies without panicking.
func FuzzDecode(f *testing.F) {
	f.Add(encode(f, ageCode(f)))
	f.Add(encode(f, attributesCode(f)))
	f.Add([]byte{0xA1, 0x00, 0x02})
	store := simStore(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		again, err := p.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted bytes that do not re-encode to themselves: %v", err)
		}
		_ = Verify(p, store)
	})
}

// FuzzParseText: the code-text reader never panics.
func FuzzParseText(f *testing.F) {
	s, err := ageCode(f).Text()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s)
	f.Add(TextPrefix + "BB8")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseText(s)
		if err == nil && len(b) > MaxPayloadBytes+1 {
			t.Fatalf("decoded %d bytes", len(b))
		}
	})
}
