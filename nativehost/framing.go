// Package nativehost is mynakit's browser native-messaging host: it speaks
// the WebExtensions native-messaging framing on standard input and output
// and the Web eID application's command set (authenticate,
// get-signing-certificate, sign, quit), so the Web eID browser extension and
// web-eid.js use the My Number Card without a loopback port.
//
// The PIN never travels through the browser: it is asked by a prompter of
// the host's own (a desktop PIN dialog), which names the site asking, and
// one card session serves every command of a connection. Digest signing is
// refused unless the site is on an allow-list, as in the bridge: the holder
// cannot see what a bare hash stands for.
//
// The framing and the Web eID messages are described in docs/webeid.md.
package nativehost

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxIncoming bounds a message from the browser. Web eID's largest
// request (sign) carries a certificate and a hash, a few kilobytes; a
// longer length prefix is an error, answered and then the host exits,
// since the stream cannot be resynchronised.
const MaxIncoming = 64 << 10

// MaxOutgoing is the browsers' limit on one message from a host (1 MiB).
const MaxOutgoing = 1 << 20

// BodyTimeout bounds how long the body of a message whose length has
// arrived may take: a writer that stops half-way does not hang the host.
const BodyTimeout = 10 * time.Second

// ErrTooLarge: a length prefix beyond MaxIncoming, or a reply beyond
// MaxOutgoing.
var ErrTooLarge = errors.New("nativehost: message too large")

// ErrTruncated: the stream ended, or stalled, inside a message.
var ErrTruncated = errors.New("nativehost: truncated message")

// The length prefix is in native byte order; every platform the host is
// built for (amd64, arm64) is little-endian.
var order = binary.LittleEndian

// ReadMessage reads one framed message. io.EOF means the browser closed the
// stream between messages (a normal end).
func ReadMessage(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, err
	}
	n := order.Uint32(hdr[:])
	if n > MaxIncoming {
		return nil, fmt.Errorf("%w: %d bytes (at most %d)", ErrTooLarge, n, MaxIncoming)
	}
	body := make([]byte, n)
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(r, body)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTruncated, err)
		}
		return body, nil
	case <-time.After(BodyTimeout):
		return nil, fmt.Errorf("%w: body not complete after %s", ErrTruncated, BodyTimeout)
	}
}

// WriteMessage writes v as one framed JSON message.
func WriteMessage(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > MaxOutgoing {
		return fmt.Errorf("%w: reply of %d bytes", ErrTooLarge, len(b))
	}
	msg := make([]byte, 4+len(b))
	order.PutUint32(msg, uint32(len(b)))
	copy(msg[4:], b)
	_, err = w.Write(msg)
	return err
}
