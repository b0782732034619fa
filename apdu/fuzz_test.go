package apdu

import (
	"bytes"
	"testing"
)

// FuzzParseResponse checks the response splitter on arbitrary bytes.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0x90, 0x00})
	f.Add([]byte{0x01, 0x02, 0x63, 0xC2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			if len(b) >= 2 {
				t.Fatalf("rejected %d bytes", len(b))
			}
			return
		}
		if !bytes.Equal(r.Bytes(), b) {
			t.Fatal("response does not round-trip")
		}
		_ = r.Err()
	})
}

// FuzzParseCommand checks that every command the parser accepts encodes back
// to the same bytes.
func FuzzParseCommand(f *testing.F) {
	f.Add([]byte{0x00, 0xA4, 0x04, 0x0C, 0x02, 0x00, 0x0A})
	f.Add([]byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte{0x00, 0x20, 0x00, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		enc, err := c.Bytes()
		if err != nil {
			t.Fatalf("accepted command does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("round trip %x -> %x", b, enc)
		}
	})
}
