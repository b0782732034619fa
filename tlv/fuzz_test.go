package tlv

import (
	"bytes"
	"testing"
)

// FuzzParse checks that the BER-TLV parser never panics, never reads past
// its input, and that whatever it accepts re-encodes to a parseable object.
func FuzzParse(f *testing.F) {
	f.Add(mustHex(f, testAttributes))
	f.Add(mustHex(f, "7f21820233"))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, rest, err := Parse(b)
		if err != nil {
			return
		}
		if len(obj.Raw)+len(rest) != len(b) || !bytes.HasPrefix(b, obj.Raw) {
			t.Fatalf("raw %d + rest %d != input %d", len(obj.Raw), len(rest), len(b))
		}
		again, _, err := Parse(Append(nil, obj.Tag, obj.Value))
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

// FuzzParseSimple checks the record parser.
func FuzzParseSimple(f *testing.F) {
	f.Add(append([]byte{0x01, 0x1C}, "4000000127198431322120350217"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, rest, err := ParseSimple(b)
		if err != nil {
			return
		}
		if len(obj.Value)+len(rest) > len(b) {
			t.Fatal("parser invented bytes")
		}
	})
}
