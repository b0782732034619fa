package apdu

import (
	"bytes"
	"testing"
)

// FuzzParseTLV checks that the BER-TLV parser never panics, never reads past
// its input, and that whatever it accepts re-encodes to a parseable object.
func FuzzParseTLV(f *testing.F) {
	f.Add(mustHex(f, testAttributes))
	f.Add(mustHex(f, "7f21820233"))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, rest, err := ParseTLV(b)
		if err != nil {
			return
		}
		if len(obj.Raw)+len(rest) != len(b) || !bytes.HasPrefix(b, obj.Raw) {
			t.Fatalf("raw %d + rest %d != input %d", len(obj.Raw), len(rest), len(b))
		}
		again, _, err := ParseTLV(AppendTLV(nil, obj.Tag, obj.Value))
		if err != nil || again.Tag != obj.Tag || !bytes.Equal(again.Value, obj.Value) {
			t.Fatalf("re-encoding of tag %X does not parse: %v", obj.Tag, err)
		}
		if kids, err := obj.Children(); err == nil {
			n := 0
			for _, k := range kids {
				n += len(k.Raw)
			}
			if n != len(obj.Value) {
				t.Fatalf("children cover %d of %d bytes", n, len(obj.Value))
			}
		}
	})
}

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

// FuzzParseSimpleTLV checks the record parser.
func FuzzParseSimpleTLV(f *testing.F) {
	f.Add(append([]byte{0x01, 0x1C}, "4000000127198431322120350217"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, rest, err := ParseSimpleTLV(b)
		if err != nil {
			return
		}
		if len(obj.Value)+len(rest) > len(b) {
			t.Fatal("parser invented bytes")
		}
	})
}
