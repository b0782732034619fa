package apdu

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// fileCard is a minimal card for testing Card: one transparent EF, READ
// BINARY in short and (optionally) extended form, and optional 61xx/6Cxx.
type fileCard struct {
	file      []byte
	extended  bool // accept extended Le
	chain     bool // answer with 61xx and GET RESPONSE
	wrongLe   bool // answer a READ BINARY of Le != 4 with 6C04 once
	pending   []byte
	sent      [][]byte
	removeAt  int
	transmits int
}

func (f *fileCard) Close() error { return nil }

func (f *fileCard) Transmit(_ context.Context, b []byte) ([]byte, error) {
	f.transmits++
	if f.removeAt > 0 && f.transmits > f.removeAt {
		return nil, ErrCardRemoved
	}
	f.sent = append(f.sent, append([]byte(nil), b...))
	cmd, err := ParseCommand(b)
	if err != nil {
		return []byte{0x67, 0x00}, nil
	}
	switch cmd.INS {
	case 0xA4:
		return []byte{0x90, 0x00}, nil
	case 0xC0:
		n := min(cmd.Le, len(f.pending))
		out := f.pending[:n]
		f.pending = f.pending[n:]
		if len(f.pending) > 0 {
			return append(append([]byte(nil), out...), 0x61, byte(min(len(f.pending), 256))), nil
		}
		return append(append([]byte(nil), out...), 0x90, 0x00), nil
	case 0xB0:
		if cmd.IsExtended() && !f.extended {
			return []byte{0x67, 0x00}, nil
		}
		if f.wrongLe && cmd.Le != 4 {
			f.wrongLe = false
			return []byte{0x6C, 0x04}, nil
		}
		off := int(cmd.P1)<<8 | int(cmd.P2)
		if off >= len(f.file) {
			return []byte{0x6B, 0x00}, nil
		}
		data := f.file[off:min(off+cmd.Le, len(f.file))]
		if f.chain && len(data) > 16 {
			f.pending = append([]byte(nil), data[16:]...)
			return append(append([]byte(nil), data[:16]...), 0x61, byte(min(len(f.pending), 256))), nil
		}
		return append(append([]byte(nil), data...), 0x90, 0x00), nil
	}
	return []byte{0x6D, 0x00}, nil
}

// certFile is a DER-like object of total bytes followed by filler.
func certFile(total, filler int) []byte {
	b := []byte{0x30, 0x82, byte((total - 4) >> 8), byte(total - 4)}
	for i := 4; i < total; i++ {
		b = append(b, byte(i))
	}
	return append(b, bytes.Repeat([]byte{0xFF}, filler)...)
}

func TestReadObjectExtendedAndShort(t *testing.T) {
	ctx := context.Background()
	file := certFile(1200, 300)
	for _, tc := range []struct {
		name      string
		card      *fileCard
		opts      []Option
		wantCmds  int
		extLength bool
	}{
		{"extended", &fileCard{file: file, extended: true}, nil, 3, true},                                // select, header, one extended read
		{"short only", &fileCard{file: file}, []Option{WithExtendedLength(ExtendedNever)}, 2 + 5, false}, // 1192 bytes in 256-byte reads
		{"auto fallback", &fileCard{file: file}, nil, 2 + 1 + 5, false},                                  // one refused extended read
		{"chained", &fileCard{file: file, extended: true, chain: true}, nil, 0, true},                    // GET RESPONSE loop
		{"wrong Le", &fileCard{file: file, extended: true, wrongLe: true}, []Option{}, 0, true},          // 6C04 on the header read
		{"forced extended", &fileCard{file: file, extended: true}, []Option{WithExtendedLength(ExtendedAlways)}, 3, true},
	} {
		c := NewCard(tc.card, tc.opts...)
		got, err := c.ReadObject(ctx, 0x000A)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(got, file[:1200]) {
			t.Fatalf("%s: read %d bytes, content differs", tc.name, len(got))
		}
		if tc.wantCmds != 0 && int(c.Stats().Commands) != tc.wantCmds {
			t.Errorf("%s: %d commands, want %d", tc.name, c.Stats().Commands, tc.wantCmds)
		}
	}
}

func TestReadObjectSmallFile(t *testing.T) {
	// JPKI EF 0008 is 3 bytes with no TLV; the 個人番号 EF is 17 bytes.
	myNumber := append([]byte{0xFF, 0x10, 0x0C}, "537686677188\xff\xff"...)
	c := NewCard(&fileCard{file: myNumber})
	got, err := c.ReadObject(context.Background(), 1)
	if err != nil || !bytes.Equal(got, myNumber[:15]) {
		t.Fatalf("got %x, %v", got, err)
	}
	phys, err := c.ReadPhysical(context.Background(), 1, 4096)
	if err != nil || !bytes.Equal(phys, myNumber) {
		t.Fatalf("physical %x, %v", phys, err)
	}
}

func TestReadObjectTruncatedFile(t *testing.T) {
	file := certFile(1200, 0)[:700] // header claims 1200
	_, err := NewCard(&fileCard{file: file, extended: true}).ReadObject(context.Background(), 1)
	if !errors.Is(err, ErrOffset) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated file: %v", err)
	}
}

func TestCardRemovedMidRead(t *testing.T) {
	c := NewCard(&fileCard{file: certFile(1200, 0), removeAt: 3}, WithExtendedLength(ExtendedNever))
	_, err := c.ReadObject(context.Background(), 1)
	if !errors.Is(err, ErrCardRemoved) {
		t.Fatalf("got %v, want ErrCardRemoved", err)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fileCard{file: certFile(100, 0)}
	if _, err := NewCard(f).Do(ctx, Command{INS: 0xA4}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if f.transmits != 0 {
		t.Error("a command was sent after cancellation")
	}
}
