package apdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommandEncoding(t *testing.T) {
	cases := []struct {
		name string
		cmd  Command
		want string
	}{
		{"case 1", Command{INS: 0x20, P2: 0x80}, "00200080"},
		{"case 2 short", Command{INS: 0xB0, Le: 4}, "00b0000004"},
		{"case 2 short Le 256", Command{INS: 0xB0, Le: 256}, "00b0000000"},
		{"case 3 short", Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{0, 0x0A}}, "00a4020c02000a"},
		{"case 4 short", Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: []byte{1, 2, 3}, Le: 256}, "802a008003010203" + "00"},
		{"case 2 extended", Command{INS: 0xB0, Le: 1000}, "00b00000" + "0003e8"},
		{"case 2 extended Le 65536", Command{INS: 0xB0, Le: 65536}, "00b00000" + "000000"},
		{"case 2 forced extended", Command{INS: 0xB0, Le: 4, Extended: true}, "00b00000" + "000004"},
		{"case 4 extended", Command{INS: 0x2A, Data: make([]byte, 300), Le: 256}, "002a0000" + "00012c" + hex.EncodeToString(make([]byte, 300)) + "0100"},
	}
	for _, c := range cases {
		got, err := c.cmd.Bytes()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if hex.EncodeToString(got) != c.want {
			t.Errorf("%s: got %x, want %s", c.name, got, c.want)
		}
		back, err := ParseCommand(got)
		if err != nil {
			t.Fatalf("%s: parse back: %v", c.name, err)
		}
		if back.INS != c.cmd.INS || back.Le != c.cmd.Le || !bytes.Equal(back.Data, c.cmd.Data) || back.IsExtended() != c.cmd.IsExtended() {
			t.Errorf("%s: round trip gave %+v", c.name, back)
		}
	}
}

func TestCommandRejects(t *testing.T) {
	if _, err := (Command{Data: make([]byte, 65536)}).Bytes(); !errors.Is(err, ErrBadCommand) {
		t.Errorf("oversized data: %v", err)
	}
	if _, err := (Command{Le: 65537}).Bytes(); !errors.Is(err, ErrBadCommand) {
		t.Errorf("oversized Le: %v", err)
	}
	for _, bad := range []string{"00", "00a4", "00a4020c0300", "00a4020c02000a0000", "00b0000000", "00b000000001"} {
		if bad == "00b0000000" { // a valid case 2 (Le 256)
			continue
		}
		if _, err := ParseCommand(mustHex(t, bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCommand(%s) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestCommandStringHidesData(t *testing.T) {
	s := Command{INS: 0x20, P2: 0x80, Data: []byte("1234")}.String()
	if bytes.Contains([]byte(s), []byte("1234")) || bytes.Contains([]byte(s), []byte("31323334")) {
		t.Errorf("String shows the data: %q", s)
	}
}

func TestStatusErrors(t *testing.T) {
	cases := []struct {
		sw   uint16
		want error
	}{
		{0x6A82, ErrFileNotFound},
		{0x6982, ErrSecurityStatus},
		{0x6983, ErrBlocked},
		{0x6984, ErrBlocked},
		{0x6700, ErrWrongLength},
		{0x6B00, ErrOffset},
		{0x6A88, ErrDataNotFound},
		{0x63C2, ErrVerifyFailed},
		{0x63C0, ErrBlocked},
	}
	for _, c := range cases {
		err := Response{SW: c.sw}.Err()
		if !errors.Is(err, c.want) {
			t.Errorf("%04X: %v is not %v", c.sw, err, c.want)
		}
	}
	var wp *WrongPINError
	if err := (Response{SW: 0x63C2}).Err(); !errors.As(err, &wp) || wp.Remaining != 2 {
		t.Errorf("63C2 gave %v", err)
	}
	if err := (Response{SW: 0x63C2}).Err(); errors.Is(err, ErrBlocked) {
		t.Error("63C2 reported as blocked")
	}
	if (Response{SW: 0x9000}).Err() != nil {
		t.Error("9000 is an error")
	}
	if errors.Is((Response{SW: 0x6A82}).Err(), ErrSecurityStatus) {
		t.Error("6A82 matched the wrong sentinel")
	}
}

func TestParseResponse(t *testing.T) {
	r, err := ParseResponse([]byte{1, 2, 0x90, 0x00})
	if err != nil || !r.OK() || !bytes.Equal(r.Data, []byte{1, 2}) {
		t.Fatalf("got %+v, %v", r, err)
	}
	if !bytes.Equal(r.Bytes(), []byte{1, 2, 0x90, 0x00}) {
		t.Error("Bytes does not round-trip")
	}
	if _, err := ParseResponse([]byte{0x90}); !errors.Is(err, ErrMalformed) {
		t.Errorf("one byte: %v", err)
	}
}
