// Package vpcd puts a virtual card behind pcscd through the vsmartcard
// project's vpcd reader driver, so that every PC/SC application (OpenSC,
// pcsc_scan, mynakit itself) sees it as a card in a reader.
//
// The protocol (docs/card.md §9, "PC/SC exposure"): TCP; every message in
// both directions is a 2-byte big-endian length followed by the body. A
// 1-byte body from the driver is a control code: 00 power off, 01 power on,
// 02 reset (none of them answered), 04 get ATR (answered with the ATR). A
// longer body is a command APDU, answered with the response APDU.
//
// The driver either listens (default, port 35963: use Dial) or, in its
// reverse mode, connects to us (use Listen). The driver considers a card
// present while the connection is up and the ATR request is answered;
// closing the connection is how a card is pulled.
package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/mynakit/mynakit/apdu"
)

// DefaultAddr is where Debian's vpcd listens in its default mode.
const DefaultAddr = "127.0.0.1:35963"

// Card is what vpcd drives. *simulator.Card satisfies it.
type Card interface {
	ATR() []byte
	PowerOn()
	PowerOff()
	Reset(ctx context.Context) error
	Transmit(ctx context.Context, cmd []byte) ([]byte, error)
}

// presence is implemented by cards that can be pulled (the simulator's
// Remove/Insert and its removal fault). A card that is not present is served
// as an empty slot.
type presence interface{ Present() bool }

// Control codes sent by the driver.
const (
	ctrlPowerOff = 0x00
	ctrlPowerOn  = 0x01
	ctrlReset    = 0x02
	ctrlATR      = 0x04
)

// maxMessage is the largest body the 2-byte length can carry.
const maxMessage = 0xFFFF

// ReadMessage reads one length-prefixed message.
func ReadMessage(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// WriteMessage writes one length-prefixed message in a single write, so the
// driver does not wait on a delayed ACK between header and body.
func WriteMessage(w io.Writer, body []byte) error {
	if len(body) > maxMessage {
		return fmt.Errorf("vpcd: message of %d bytes is too long", len(body))
	}
	out := make([]byte, 2+len(body))
	binary.BigEndian.PutUint16(out, uint16(len(body)))
	copy(out[2:], body)
	_, err := w.Write(out)
	return err
}

// errRemoved ends a connection because the card was pulled.
var errRemoved = errors.New("vpcd: card removed")

// Serve answers the driver on conn until the connection ends, ctx is done,
// or the card is pulled (then the connection is closed, which the driver
// sees as a removal). Serve closes conn.
func Serve(ctx context.Context, conn net.Conn, card Card) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	tuneConn(conn)
	var buf []byte
	for {
		if pr, ok := card.(presence); ok && !pr.Present() {
			return errRemoved
		}
		quickAck(conn)
		msg, err := ReadMessage(conn, buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("vpcd: read: %w", err)
		}
		buf = msg[:0]
		var reply []byte
		if len(msg) == 1 {
			switch msg[0] {
			case ctrlPowerOff:
				card.PowerOff()
				continue
			case ctrlPowerOn:
				card.PowerOn()
				continue
			case ctrlReset:
				if err := card.Reset(ctx); errors.Is(err, apdu.ErrCardRemoved) {
					return errRemoved
				}
				continue
			case ctrlATR:
				reply = card.ATR()
			default:
				return fmt.Errorf("vpcd: unknown control code %02X", msg[0])
			}
		} else {
			reply, err = card.Transmit(ctx, msg)
			if errors.Is(err, apdu.ErrCardRemoved) {
				return errRemoved
			}
			if err != nil {
				// A card that cannot answer goes mute; the driver reports a
				// transmission error to the application.
				return fmt.Errorf("vpcd: card: %w", err)
			}
		}
		if err := WriteMessage(conn, reply); err != nil {
			return fmt.Errorf("vpcd: write: %w", err)
		}
	}
}

// Dial connects to a driver that listens (vpcd's default mode) and serves
// card until ctx is done. When pcscd restarts, or the card was pulled and
// put back, it connects again, backing off up to one second.
func Dial(ctx context.Context, addr string, card Card, logger *log.Logger) error {
	var d net.Dialer
	backoff := 50 * time.Millisecond
	for {
		if pr, ok := card.(presence); !ok || pr.Present() {
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				logf(logger, "connected to vpcd at %s: card inserted", addr)
				backoff = 50 * time.Millisecond
				err = Serve(ctx, conn, card)
				logf(logger, "card out of the reader: %v", describe(err))
			} else if ctx.Err() == nil {
				logf(logger, "waiting for vpcd at %s: %v", addr, err)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// Listen serves card to the driver in its reverse mode: the driver connects
// to addr (which should be a loopback address). A connection made while the
// card is pulled is closed at once, so the slot reads as empty. card may be
// nil for an empty slot.
func Listen(ctx context.Context, addr string, card Card, logger *log.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("vpcd: listen: %w", err)
	}
	return ServeListener(ctx, ln, card, logger)
}

// ServeListener is Listen on a listener the caller opened. It closes ln.
func ServeListener(ctx context.Context, ln net.Listener, card Card, logger *log.Logger) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("vpcd: accept: %w", err)
		}
		if card == nil {
			conn.Close()
			continue
		}
		if pr, ok := card.(presence); ok && !pr.Present() {
			conn.Close()
			continue
		}
		// The driver uses one connection per slot at a time.
		err = Serve(ctx, conn, card)
		if !errors.Is(err, context.Canceled) {
			logf(logger, "vpcd connection ended: %v", describe(err))
		}
	}
}

func describe(err error) string {
	if err == nil {
		return "driver closed the connection"
	}
	return err.Error()
}

func logf(l *log.Logger, format string, args ...any) {
	if l != nil {
		l.Printf(format, args...)
	}
}

// Slots is how many card slots one vpcd reader line makes in reverse mode:
// the driver connects to PORT and to PORT+1, and pcscd aborts at start if
// either refuses.
const Slots = 2

// ServeSlots serves vpcd's reverse mode for one reader line: it listens on
// host:port and host:port+1 and serves a card made by newCard in each slot
// (Debian's vpcd aborts pcscd when a slot answers without a card, so both
// hold one). It returns when ctx ends or a slot fails.
func ServeSlots(ctx context.Context, host string, port int, newCard func(slot int) (Card, error), logger *log.Logger) error {
	if port < 1 || port > 65535-(Slots-1) {
		return fmt.Errorf("vpcd: port %d must be 1-%d", port, 65535-(Slots-1))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lc net.ListenConfig
	var wg sync.WaitGroup
	errs := make(chan error, Slots)
	for slot := 0; slot < Slots; slot++ {
		addr := net.JoinHostPort(host, strconv.Itoa(port+slot))
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("vpcd: listen on %s: %w", addr, err)
		}
		card, err := newCard(slot)
		if err != nil {
			ln.Close()
			return err
		}
		logf(logger, "slot %d on %s", slot, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ServeListener(ctx, ln, card, logger); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
