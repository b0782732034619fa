package cardimage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sample is a small image in the exchange format: every member the format
// has, with hex written the ways UnmarshalJSON accepts.
const sample = `{
  "format": "mynakit-card-image/1",
  "atr": "3B E0 00 FF 81 31 FE 45 14",
  "get_data": {"00F0": "3133323231", "5F51": "e000ff8131fe4514"},
  "applets": {
    "D392F000260100000001": {
      "files": {
        "0006": {"data": "4a504b49:4150:4943", "access": "none"},
        "0001": {"data": "3082", "access": "pin:001B"}
      },
      "keys": {
        "0018": {"value": "1234", "remaining": 3, "max": 3},
        "001B": {"value": "ABC123", "remaining": 5, "max": 5}
      },
      "private_keys": {"0017": "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"}
    },
    "D3921000310001010408": {
      "files": {"0001": {"data": "ff100c353337363836363737313838ffff", "access": "pin:0011|pin:0014"}},
      "keys": {"0011": {"remaining": 0, "max": 3}, "0014": {"value": "537686677188", "remaining": 10, "max": 10}},
      "replay": {"challenge": "00112233", "signature": "aabb"}
    },
    "D3921000310001010100": {
      "files": {"0001": {"records": ["011c3430", "02"], "access": "none"}}
    }
  }
}`

func TestParseSample(t *testing.T) {
	img, err := ParseImage([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img.ATR, []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}) {
		t.Errorf("ATR %X", img.ATR)
	}
	jpki := img.Applets["D392F000260100000001"]
	if got := string(jpki.Files["0006"].Data); got != "JPKIAPIC" {
		t.Errorf("hex with colons decoded to %q", got)
	}
	if k := jpki.Keys["001B"]; k.Value == nil || string(*k.Value) != "ABC123" || k.Remaining != 5 {
		t.Errorf("signing key %+v", k)
	}
	text := img.Applets["D3921000310001010408"]
	if text.Keys["0011"].Value != nil {
		t.Error("a key without value gained one")
	}
	if text.Replay == nil || !bytes.Equal(text.Replay.Challenge, []byte{0, 0x11, 0x22, 0x33}) {
		t.Errorf("replay %+v", text.Replay)
	}
	common := img.Applets["D3921000310001010100"].Files["0001"]
	if common.Data != nil || len(common.Records) != 2 || !bytes.Equal(common.Records[1], []byte{2}) {
		t.Errorf("record EF %+v", common)
	}
}

// TestRoundTrip: Marshal then ParseImage gives the same image, and a second
// Marshal the same bytes (the writer is deterministic: maps are sorted).
func TestRoundTrip(t *testing.T) {
	img, err := ParseImage([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	out, err := img.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseImage(out)
	if err != nil {
		t.Fatalf("the writer's own output does not parse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(img, back) {
		t.Errorf("round trip changed the image:\n%+v\n%+v", img, back)
	}
	again, _ := back.Marshal()
	if !bytes.Equal(out, again) {
		t.Error("Marshal is not deterministic")
	}
	// Hex is written lower-case without separators; secrets in clear.
	if !strings.Contains(string(out), `"atr": "3be000ff8131fe4514"`) || !strings.Contains(string(out), `"value": "ABC123"`) {
		t.Errorf("unexpected encoding:\n%s", out)
	}
}

func TestLoadImage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "card.json")
	if err := os.WriteFile(path, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadImage(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadImage(filepath.Join(t.TempDir(), "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

// A broken file is named, with the line and column of the JSON error; a
// FIFO is refused rather than waited on.
func TestLoadErrorSaysWhere(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(path, []byte("{\n  \"format\": \"mynakit-card-image/1\",\n  \"atr\": ,\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadImage(path)
	var le *LoadError
	if !errors.As(err, &le) || le.Path != path || le.Line != 3 || le.Column < 9 {
		t.Fatalf("err = %#v (%v), want line 3 of %s", le, err, path)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("message does not say where: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here")
	}
	done := make(chan error, 1)
	go func() { _, err := LoadImage(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a FIFO loaded as an image")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadImage waits on a FIFO")
	}
}

// TestMalformed: each defect is refused with an error that says where.
func TestMalformed(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(sample, old) {
			t.Fatalf("sample lacks %q", old)
		}
		return strings.Replace(sample, old, new, 1)
	}
	cases := []struct {
		name, doc, want string
	}{
		{"not JSON", `{"format":`, "card image"},
		{"not an object", `[]`, "card image"},
		{"wrong format", edit(`"mynakit-card-image/1"`, `"mynakit-card-image/2"`), "format"},
		{"no format", `{"atr":"3b00","applets":{}}`, "format"},
		{"short ATR", edit(`"3B E0 00 FF 81 31 FE 45 14"`, `"3B"`), "ATR of 1 bytes"},
		{"bad hex", edit(`"3B E0 00 FF 81 31 FE 45 14"`, `"3G"`), "bad hex"},
		{"odd hex", edit(`"3B E0 00 FF 81 31 FE 45 14"`, `"3BE"`), "bad hex"},
		{"hex not a string", edit(`"3B E0 00 FF 81 31 FE 45 14"`, `3`), "card image"},
		{"get_data tag", edit(`"00F0"`, `"F0"`), "get_data tag"},
		{"AID not hex", edit(`"D392F000260100000001"`, `"jpki"`), "not a 5-16 byte hex AID"},
		{"AID too short", edit(`"D392F000260100000001"`, `"D392F000"`), "not a 5-16 byte hex AID"},
		{"AID too long", edit(`"D392F000260100000001"`, `"D392F000260100000001D392F00026010000"`), "not a 5-16 byte hex AID"},
		{"null applet", `{"format":"mynakit-card-image/1","atr":"3b00","applets":{"D392F000260100000001":null}}`, "is empty"},
		{"FID of 3 digits", edit(`"0006": {"data"`, `"006": {"data"`), "not 4 hex digits"},
		{"FID not hex", edit(`"0006": {"data"`, `"00G6": {"data"`), "not 4 hex digits"},
		{"signed FID", edit(`"0006": {"data"`, `"+006": {"data"`), "not 4 hex digits"},
		{"null file", edit(`"0006": {"data": "4a504b49:4150:4943", "access": "none"}`, `"0006": null`), "is empty"},
		{"data and records", edit(`"records": ["011c3430", "02"]`, `"records": ["01"], "data": "00"`), "both data and records"},
		{"access word", edit(`"access": "pin:001B"`, `"access": "pin"`), "want none or pin"},
		{"access FID", edit(`"access": "pin:001B"`, `"access": "pin:1B"`), "not 4 hex digits"},
		{"access names absent key", edit(`"access": "pin:001B"`, `"access": "pin:0019"`), "which the applet lacks"},
		{"second access names absent key", edit(`"pin:0011|pin:0014"`, `"pin:0011|pin:0015"`), "which the applet lacks"},
		{"key FID", edit(`"0018": {"value"`, `"18": {"value"`), "key"},
		{"null key", edit(`"0018": {"value": "1234", "remaining": 3, "max": 3}`, `"0018": null`), "out of range"},
		{"remaining above max", edit(`"remaining": 3, "max": 3`, `"remaining": 4, "max": 3`), "out of range"},
		{"negative remaining", edit(`"remaining": 3, "max": 3`, `"remaining": -1, "max": 3`), "out of range"},
		{"max above 15", edit(`"remaining": 3, "max": 3`, `"remaining": 3, "max": 16`), "out of range"},
		{"private key FID", edit(`"private_keys": {"0017"`, `"private_keys": {"17"`), "private key"},
		{"counter not a number", edit(`"remaining": 3, "max": 3`, `"remaining": "3", "max": 3`), "card image"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, err := ParseImage([]byte(c.doc))
			if err == nil {
				t.Fatalf("accepted: %+v", img)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

// TestSecretRedacted: a key's value never prints through fmt.
func TestSecretRedacted(t *testing.T) {
	img, err := ParseImage([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	k := img.Applets["D392F000260100000001"].Keys["0018"]
	for _, s := range []string{fmt.Sprint(*k.Value), fmt.Sprintf("%v %+v %#v %s", k.Value, *k, *k.Value, *k.Value)} {
		if strings.Contains(s, "1234") {
			t.Errorf("secret printed: %s", s)
		}
	}
	if !strings.Contains(fmt.Sprint(*k.Value), "REDACTED") {
		t.Error("secret not marked as redacted")
	}
}

func TestFIDs(t *testing.T) {
	for _, c := range []struct {
		in string
		v  uint16
		ok bool
	}{
		{"0001", 1, true}, {"001b", 0x1B, true}, {"FFFF", 0xFFFF, true},
		{"1", 0, false}, {"00001", 0, false}, {"", 0, false}, {"0x01", 0, false}, {"-001", 0, false}, {"00 1", 0, false},
	} {
		v, err := ParseFID(c.in)
		if (err == nil) != c.ok || v != c.v {
			t.Errorf("ParseFID(%q) = %04X, %v", c.in, v, err)
		}
	}
	if FIDString(0x1B) != "001B" || FIDString(0xABCD) != "ABCD" {
		t.Errorf("FIDString: %s %s", FIDString(0x1B), FIDString(0xABCD))
	}
	for v := 0; v <= 0xFFFF; v += 0x0101 {
		back, err := ParseFID(FIDString(uint16(v)))
		if err != nil || back != uint16(v) {
			t.Fatalf("FID %04X does not round-trip: %04X %v", v, back, err)
		}
	}
}

func TestAccess(t *testing.T) {
	for _, c := range []struct {
		in   string
		keys []uint16
	}{
		{"", nil}, {"none", nil}, {"pin:0011", []uint16{0x11}},
		{"pin:0011|pin:0014", []uint16{0x11, 0x14}}, {" pin:0011 | pin:0015 ", []uint16{0x11, 0x15}},
	} {
		keys, err := ParseAccess(c.in)
		if err != nil || fmt.Sprint(keys) != fmt.Sprint(c.keys) {
			t.Errorf("ParseAccess(%q) = %v, %v; want %v", c.in, keys, err, c.keys)
		}
		if c.keys != nil {
			back, err := ParseAccess(AccessString(keys))
			if err != nil || fmt.Sprint(back) != fmt.Sprint(keys) {
				t.Errorf("AccessString(%v) = %q does not parse back", keys, AccessString(keys))
			}
		}
	}
	if AccessString(nil) != "none" || AccessString([]uint16{0x11, 0x1B}) != "pin:0011|pin:001B" {
		t.Errorf("AccessString: %q %q", AccessString(nil), AccessString([]uint16{0x11, 0x1B}))
	}
	for _, bad := range []string{"None", "pin:", "pin:0011|", "pin:0011,pin:0014", "key:0011", "pin:11"} {
		if _, err := ParseAccess(bad); err == nil {
			t.Errorf("ParseAccess(%q) accepted", bad)
		}
	}
}

// TestHexBytes: the accepted separators, and what is refused.
func TestHexBytes(t *testing.T) {
	for in, want := range map[string][]byte{
		`""`: {}, `"00ff"`: {0, 0xFF}, `"00 FF"`: {0, 0xFF}, `"00:ff"`: {0, 0xFF}, `"00\nff\t01"`: {0, 0xFF, 1},
	} {
		var h HexBytes
		if err := json.Unmarshal([]byte(in), &h); err != nil || !bytes.Equal(h, want) {
			t.Errorf("%s: %X, %v", in, []byte(h), err)
		}
	}
	for _, bad := range []string{`"0"`, `"zz"`, `"0-1"`, `12`, `null1`} {
		var h HexBytes
		if err := json.Unmarshal([]byte(bad), &h); err == nil {
			t.Errorf("%s accepted as %X", bad, []byte(h))
		}
	}
	out, err := json.Marshal(HexBytes{0xAB, 0x01})
	if err != nil || string(out) != `"ab01"` {
		t.Errorf("marshal: %s %v", out, err)
	}
}

// FuzzParseImage: hostile image files never panic, and whatever parses
// writes out as an image that parses again to the same thing. The seed
// corpus is in testdata/fuzz/FuzzParseImage.
func FuzzParseImage(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := ParseImage(b)
		if err != nil {
			return
		}
		out, err := img.Marshal()
		if err != nil {
			t.Fatalf("a parsed image does not marshal: %v", err)
		}
		back, err := ParseImage(out)
		if err != nil {
			t.Fatalf("the writer's output does not parse: %v\n%s", err, out)
		}
		out2, err := back.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second round differs:\n%s\n%s", out, out2)
		}
	})
}
