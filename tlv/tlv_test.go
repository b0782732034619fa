package tlv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// The 基本4情報 object of the JPKI test card (docs/card.md §2.2).
const testAttributes = "ff2065" +
	"df2108000e0020005900" + "64" +
	"df220fe9bb92e6a190e38080e5b9b9e4b99f" +
	"df2336e69db1e4baace983bde6b885e780ace5b882e8a6b3e5b883e5ad90e58d97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92" +
	"df240831393830303231" + "37" +
	"df250131"

func TestParseTestCard(t *testing.T) {
	b := mustHex(t, testAttributes)
	b = append(b, 0xFF, 0xFF, 0xFF) // filler after the object
	outer, rest, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if outer.Tag != 0xFF20 || len(outer.Value) != 0x65 || len(rest) != 3 || !outer.Constructed() {
		t.Fatalf("outer %X len %d rest %d", outer.Tag, len(outer.Value), len(rest))
	}
	kids, err := outer.Children()
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != 5 {
		t.Fatalf("%d children", len(kids))
	}
	name, ok := Find(kids, 0xDF22)
	if !ok || string(name.Value) != "黒桐　幹也" {
		t.Errorf("name %q", name.Value)
	}
	// The offset table names the absolute offset of each field's tag.
	table, _ := Find(kids, 0xDF21)
	for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
		off := int(table.Value[2*i])<<8 | int(table.Value[2*i+1])
		got, _, err := Parse(b[off:])
		if err != nil || got.Tag != tag {
			t.Errorf("offset %d: tag %X, %v; want %X", off, got.Tag, err, tag)
		}
	}
	sex, _ := Find(kids, 0xDF25)
	if !bytes.Equal(sex.Raw, []byte{0xDF, 0x25, 0x01, 0x31}) {
		t.Errorf("raw %x", sex.Raw)
	}
}

func TestParseHeaderForms(t *testing.T) {
	cases := []struct {
		in       string
		tag      uint32
		hl, vl   int
		wantFail bool
	}{
		{"308201f0", 0x30, 4, 0x1F0, false},
		{"7f21820233", 0x7F21, 5, 0x233, false},
		{"ff10820213", 0xFF10, 5, 0x213, false},
		{"ff40820009", 0xFF40, 5, 9, false}, // non-minimal long form is accepted
		{"df2181a0", 0xDF21, 4, 0xA0, false},
		{"30", 0, 0, 0, true},       // no length
		{"3080", 0, 0, 0, true},     // indefinite
		{"3085", 0, 0, 0, true},     // 5-byte length
		{"308201", 0, 0, 0, true},   // truncated length
		{"ffff", 0, 0, 0, true},     // filler
		{"00", 0, 0, 0, true},       // padding
		{"ff", 0, 0, 0, true},       // truncated tag
		{"dfff8001", 0, 0, 0, true}, // tag longer than 3 bytes
	}
	for _, c := range cases {
		tag, hl, vl, err := ParseHeader(mustHex(t, c.in))
		if c.wantFail {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: want ErrMalformed, got %X %d %d %v", c.in, tag, hl, vl, err)
			}
			continue
		}
		if err != nil || tag != c.tag || hl != c.hl || vl != c.vl {
			t.Errorf("%s: got %X %d %d %v", c.in, tag, hl, vl, err)
		}
	}
	if _, _, err := Parse(mustHex(t, "df220f41")); !errors.Is(err, ErrMalformed) {
		t.Errorf("value longer than input: %v", err)
	}
}

func TestAppendRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 65535, 65536} {
		v := bytes.Repeat([]byte{0xAB}, n)
		enc := Append(nil, 0xDF27, v)
		got, rest, err := Parse(enc)
		if err != nil || got.Tag != 0xDF27 || !bytes.Equal(got.Value, v) || len(rest) != 0 || !bytes.Equal(got.Raw, enc) {
			t.Errorf("length %d: %v", n, err)
		}
	}
}

func TestSimple(t *testing.T) {
	rec := append([]byte{0x01, 0x1C}, "400000012719843"+"13221"+"20350217"...)
	obj, rest, err := ParseSimple(rec)
	if err != nil || obj.Tag != 1 || string(obj.Value) != "4000000127198431322120350217" || len(rest) != 0 {
		t.Fatalf("got %+v %v", obj, err)
	}
	long := AppendSimple(nil, 0x02, make([]byte, 300))
	if long[1] != 0xFF {
		t.Fatalf("long form not used: %x", long[:4])
	}
	if obj, _, err := ParseSimple(long); err != nil || len(obj.Value) != 300 {
		t.Errorf("long form: %v", err)
	}
	for _, bad := range []string{"01", "001c", "ff01", "0105aabb", "01ff01"} {
		if _, _, err := ParseSimple(mustHex(t, bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
