package vpcd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/apdu"
)

type fakeCard struct {
	mu       sync.Mutex
	events   []string
	removeAt int // Transmit number at which the card is pulled
	n        int
	gone     bool
}

func (f *fakeCard) log(s string) { f.mu.Lock(); f.events = append(f.events, s); f.mu.Unlock() }
func (f *fakeCard) ATR() []byte  { return []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14} }
func (f *fakeCard) PowerOn()     { f.log("on") }
func (f *fakeCard) PowerOff()    { f.log("off") }
func (f *fakeCard) Reset(context.Context) error {
	f.log("reset")
	return nil
}
func (f *fakeCard) Present() bool { f.mu.Lock(); defer f.mu.Unlock(); return !f.gone }
func (f *fakeCard) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.removeAt > 0 && f.n >= f.removeAt {
		f.gone = true
		return nil, apdu.ErrCardRemoved
	}
	return append(append([]byte(nil), cmd...), 0x90, 0x00), nil
}

func TestServeProtocol(t *testing.T) {
	drv, sim := net.Pipe()
	card := &fakeCard{}
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), sim, card) }()

	for _, c := range []byte{ctrlPowerOn, ctrlReset} {
		if err := WriteMessage(drv, []byte{c}); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteMessage(drv, []byte{ctrlATR}); err != nil {
		t.Fatal(err)
	}
	atr, err := ReadMessage(drv, nil)
	if err != nil || !bytes.Equal(atr, card.ATR()) {
		t.Fatalf("ATR %x, %v", atr, err)
	}
	cmd := []byte{0x00, 0xA4, 0x04, 0x0C}
	if err := WriteMessage(drv, cmd); err != nil {
		t.Fatal(err)
	}
	resp, err := ReadMessage(drv, nil)
	if err != nil || !bytes.Equal(resp, append(cmd, 0x90, 0x00)) {
		t.Fatalf("response %x, %v", resp, err)
	}
	drv.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve ended with %v", err)
	}
	if got := card.events; len(got) != 2 || got[0] != "on" || got[1] != "reset" {
		t.Errorf("control events %v", got)
	}
}

func TestServeClosesOnRemoval(t *testing.T) {
	drv, sim := net.Pipe()
	card := &fakeCard{removeAt: 2}
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), sim, card) }()
	go func() { // the write of the second APDU may block once the server is gone
		_ = WriteMessage(drv, []byte{0, 0xB0, 0, 0, 4})
		_, _ = ReadMessage(drv, nil)
		_ = WriteMessage(drv, []byte{0, 0xB0, 0, 0, 4})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errRemoved) {
			t.Fatalf("Serve ended with %v, want removal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not end on removal")
	}
	if _, err := ReadMessage(drv, nil); err == nil {
		t.Error("connection still open after removal")
	}
}

func TestListenEmptyWhileRemoved(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	card := &fakeCard{gone: true}
	go ServeListener(ctx, ln, card, nil)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = WriteMessage(conn, []byte{ctrlATR})
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ReadMessage(conn, nil); err == nil {
		t.Fatal("a pulled card answered the ATR request")
	}
}

func TestWriteMessageTooLong(t *testing.T) {
	if err := WriteMessage(&bytes.Buffer{}, make([]byte, 70000)); err == nil {
		t.Fatal("70000-byte message accepted")
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x04})
	f.Add([]byte{0x00, 0x04, 0x00, 0xA4, 0x04, 0x0C})
	f.Add([]byte{0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := ReadMessage(bytes.NewReader(b), nil)
		if err != nil {
			return
		}
		if len(msg)+2 > len(b) || !bytes.Equal(msg, b[2:2+len(msg)]) {
			t.Fatalf("message %x not taken from input %x", msg, b)
		}
	})
}

// TestDialReconnects plays a pcscd that restarts: the first connection is
// dropped and the card must come back on a second one.
func TestDialReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Dial(ctx, ln.Addr().String(), &fakeCard{}, nil) }()
	askATR := func() {
		t.Helper()
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := WriteMessage(conn, []byte{ctrlATR}); err != nil {
			t.Fatal(err)
		}
		if atr, err := ReadMessage(conn, nil); err != nil || len(atr) != 9 {
			t.Fatalf("ATR %x, %v", atr, err)
		}
	}
	askATR() // pcscd up
	askATR() // pcscd restarted: the card connected again
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Dial ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Dial did not stop on cancel")
	}
}
