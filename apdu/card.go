package apdu

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mynakit/mynakit/tlv"
)

// ExtendedMode says when Card uses extended-length APDUs.
type ExtendedMode int

const (
	// ExtendedAuto asks the transport (ExtendedLengthReporter) and otherwise
	// tries an extended read once, falling back to short reads for good if
	// the card or the link refuses it.
	ExtendedAuto ExtendedMode = iota
	// ExtendedNever reads in chunks of at most 256 bytes.
	ExtendedNever
	// ExtendedAlways uses extended Le for every read larger than 256 bytes.
	ExtendedAlways
)

// Stats counts what went over the wire. Benchmarks watch these numbers.
type Stats struct {
	Commands      int64 // command APDUs sent, GET RESPONSE and re-sends included
	BytesSent     int64
	BytesReceived int64
}

// Card sends commands over a Transport. It handles 61xx (GET RESPONSE) and
// 6Cxx (re-send with the Le the card asked for) so callers never see them,
// and reads files header first. A Card is not safe for concurrent use: a
// card is one conversation.
type Card struct {
	t        Transport
	mode     ExtendedMode
	extKnown bool // the Auto probe has been decided
	extOK    bool
	stats    struct{ cmds, sent, recv atomic.Int64 }
	trace    Tracer
}

// Tracer is told every exchange: the command as sent, the response as
// received (nil on error), how long it took, and the error. It must not
// keep the slices.
type Tracer func(cmd, resp []byte, took time.Duration, err error)

// WithTrace has every exchange reported to t (a debug log).
func WithTrace(t Tracer) Option { return func(c *Card) { c.trace = t } }

// Option configures a Card.
type Option func(*Card)

// WithExtendedLength sets the extended-length policy (default ExtendedAuto).
func WithExtendedLength(m ExtendedMode) Option { return func(c *Card) { c.mode = m } }

// NewCard wraps a transport.
func NewCard(t Transport, opts ...Option) *Card {
	c := &Card{t: t}
	for _, o := range opts {
		o(c)
	}
	switch c.mode {
	case ExtendedNever:
		c.extKnown, c.extOK = true, false
	case ExtendedAlways:
		c.extKnown, c.extOK = true, true
	default:
		if r, ok := t.(ExtendedLengthReporter); ok {
			c.extKnown, c.extOK = true, r.ExtendedLength()
		} else if r, ok := t.(MaxAPDUReporter); ok {
			if n := r.MaxAPDU(); n > 0 {
				c.extKnown, c.extOK = true, n > maxShortAPDU
			}
		}
	}
	return c
}

// Transport returns the underlying transport.
func (c *Card) Transport() Transport { return c.t }

// Stats returns the traffic counters.
func (c *Card) Stats() Stats {
	return Stats{Commands: c.stats.cmds.Load(), BytesSent: c.stats.sent.Load(), BytesReceived: c.stats.recv.Load()}
}

// Close closes the transport.
func (c *Card) Close() error { return c.t.Close() }

func (c *Card) raw(ctx context.Context, cmd Command) (Response, error) {
	b, err := cmd.Bytes()
	if err != nil {
		return Response{}, err
	}
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	c.stats.cmds.Add(1)
	c.stats.sent.Add(int64(len(b)))
	start := time.Now()
	rb, err := c.t.Transmit(ctx, b)
	if c.trace != nil {
		c.trace(b, rb, time.Since(start), err)
	}
	if err != nil {
		return Response{}, err
	}
	c.stats.recv.Add(int64(len(rb)))
	return ParseResponse(rb)
}

// maxChained bounds GET RESPONSE loops against a card that never stops.
const maxChained = 256

// Transmit sends cmd and returns the card's final response. 61xx is followed
// by GET RESPONSE until the card has given everything; 6Cxx makes it re-send
// cmd once with the Le the card named. The status word is returned, not
// turned into an error: use Response.Err or Do for that.
func (c *Card) Transmit(ctx context.Context, cmd Command) (Response, error) {
	r, err := c.raw(ctx, cmd)
	if err != nil {
		return r, err
	}
	if r.SW1() == 0x6C {
		cmd.Le = int(r.SW2())
		if cmd.Le == 0 {
			cmd.Le = 256
		}
		if r, err = c.raw(ctx, cmd); err != nil {
			return r, err
		}
	}
	if r.SW1() != 0x61 {
		return r, nil
	}
	data := append([]byte(nil), r.Data...)
	for i := 0; r.SW1() == 0x61; i++ {
		if i == maxChained {
			return Response{}, fmt.Errorf("%w: endless GET RESPONSE chain", ErrMalformed)
		}
		le := int(r.SW2())
		if le == 0 {
			le = 256
		}
		if r, err = c.raw(ctx, Command{CLA: cmd.CLA &^ 0x0C, INS: 0xC0, Le: le}); err != nil {
			return r, err
		}
		data = append(data, r.Data...)
	}
	return Response{Data: data, SW: r.SW}, nil
}

// Do sends cmd and returns its data, or the status word as a typed error.
func (c *Card) Do(ctx context.Context, cmd Command) ([]byte, error) {
	r, err := c.Transmit(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return r.Data, err
	}
	return r.Data, nil
}

// SelectAID selects an application by its full DF name (00 A4 04 0C).
func (c *Card) SelectAID(ctx context.Context, aid []byte) error {
	if _, err := c.Do(ctx, Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x0C, Data: aid}); err != nil {
		return fmt.Errorf("select AID %X: %w", aid, err)
	}
	return nil
}

// SelectEF selects an EF of the current application (00 A4 02 0C).
func (c *Card) SelectEF(ctx context.Context, fid uint16) error {
	if _, err := c.Do(ctx, Command{CLA: 0x00, INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}}); err != nil {
		return fmt.Errorf("select EF %04X: %w", fid, err)
	}
	return nil
}

// maxShortAPDU is the longest short APDU: header, Lc, 255 data bytes, Le.
const maxShortAPDU = 4 + 1 + 255 + 1

// maxOffset is the largest offset READ BINARY can name (15 bits).
const maxOffset = 0x7FFF

// ReadBinary reads up to n bytes of the current EF from offset (00 B0).
// A card returns fewer bytes than asked at the end of the file. n above 256
// needs extended length.
func (c *Card) ReadBinary(ctx context.Context, offset, n int) ([]byte, error) {
	if offset < 0 || offset > maxOffset {
		return nil, fmt.Errorf("read binary at offset %d: %w", offset, ErrOffset)
	}
	cmd := Command{CLA: 0x00, INS: 0xB0, P1: byte(offset >> 8), P2: byte(offset), Le: n}
	return c.Do(ctx, cmd)
}

// extendedUsable reports whether to try an extended read now.
func (c *Card) extendedUsable() bool { return !c.extKnown || c.extOK }

// extendedOutcome records what a command with an extended Le, sent while
// extended length was still unproven, says about the link, and reports
// whether to ask again with a short Le. Success proves it; a refusal by
// the card (a status word, a malformed answer) or a transport failure
// disproves it for good. A card pulled or reset, or a cancelled context,
// says nothing about length and is returned as it is.
func (c *Card) extendedOutcome(err error) (retryShort bool) {
	if err == nil {
		c.extKnown, c.extOK = true, true
		return false
	}
	if c.extKnown || !Answered(err) && !errors.Is(err, ErrTransport) {
		return false
	}
	c.extKnown, c.extOK = true, false
	return true
}

// readRange reads exactly n bytes of the current EF starting at offset, with
// one extended read where possible and 256-byte reads otherwise. A card that
// ends the file early yields fewer bytes; the caller decides whether that is
// an error.
func (c *Card) readRange(ctx context.Context, offset, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		want := n - len(out)
		if want > MaxShortLe && c.extendedUsable() {
			chunk := min(want, MaxExtendedLe)
			data, err := c.ReadBinary(ctx, offset+len(out), chunk)
			if err == nil {
				c.extendedOutcome(nil)
				out = append(out, data...)
				if len(data) == 0 {
					break
				}
				continue
			}
			if !c.extendedOutcome(err) {
				return out, err
			}
			continue // short reads from now on
		}
		data, err := c.ReadBinary(ctx, offset+len(out), min(want, MaxShortLe))
		if err != nil {
			return out, err
		}
		out = append(out, data...)
		if len(data) == 0 {
			break
		}
	}
	return out, nil
}

// headerProbe is how many bytes the first read of a file asks for: enough
// for every header on the card (FF 20 82 hh ll, 7F 21 82 hh ll, 30 82 hh ll).
const headerProbe = 8

// ReadObject selects EF fid and reads the BER-TLV object at its start: a
// short read of the header, then exactly the rest of the object. Filler after
// the object is never read (docs/card.md §2.7).
func (c *Card) ReadObject(ctx context.Context, fid uint16) ([]byte, error) {
	if err := c.SelectEF(ctx, fid); err != nil {
		return nil, err
	}
	return c.ReadCurrentObject(ctx, fid)
}

// ReadCurrentObject is ReadObject for an EF that is already selected; fid
// names it in errors only.
func (c *Card) ReadCurrentObject(ctx context.Context, fid uint16) ([]byte, error) {
	head, err := c.ReadBinary(ctx, 0, headerProbe)
	if err != nil {
		return nil, fmt.Errorf("read EF %04X: %w", fid, err)
	}
	return c.ReadRest(ctx, fid, head)
}

// ReadBinarySFI reads up to n bytes of the EF whose short identifier is
// the low five bits of fid, from offset (0-255), without a SELECT: READ
// BINARY with P1 = 80 | SFI (docs/card.md §4.3). The EF becomes the
// current EF, so later reads of it use plain offsets.
func (c *Card) ReadBinarySFI(ctx context.Context, fid uint16, offset, n int) ([]byte, error) {
	if offset < 0 || offset > 0xFF {
		return nil, fmt.Errorf("read binary by SFI at offset %d: %w", offset, ErrOffset)
	}
	cmd := Command{CLA: 0x00, INS: 0xB0, P1: 0x80 | byte(fid&0x1F), P2: byte(offset), Le: n}
	return c.Do(ctx, cmd)
}

// readFirstSFI is the first read of an EF by SFI, n bytes: extended when
// n is above 256 and the link may carry it, falling back to 256 for good
// when the card or the link refuses.
func (c *Card) readFirstSFI(ctx context.Context, fid uint16, n int) ([]byte, error) {
	if n > MaxShortLe && !c.extendedUsable() {
		n = MaxShortLe
	}
	data, err := c.ReadBinarySFI(ctx, fid, 0, n)
	if n <= MaxShortLe || !c.extendedOutcome(err) {
		return data, err
	}
	return c.ReadBinarySFI(ctx, fid, 0, MaxShortLe)
}

// ObjectHeaderMax is the most bytes a TLV header of the card's files takes
// (a two-byte tag and 82 hh ll: FF 20 82 hh ll, 7F 21 82 02 33; certificates
// 30 82 hh ll), and so the size of a header-only first read.
const ObjectHeaderMax = 5

// ReadObjectSFI reads the BER-TLV object at the start of EF fid without a
// SELECT. The first command asks for first bytes — the whole object when
// its size is known (docs/card.md fixes many), else just the header
// — and, if the header says there is more, one more command reads exactly
// the rest. Filler after the object is never read: on a contact reader at
// the default rate every byte costs about a millisecond, while one more
// command costs its header, status word and framing, about ten; so an
// unknown size is worth a header read, a known one is not.
func (c *Card) ReadObjectSFI(ctx context.Context, fid uint16, first int) ([]byte, error) {
	first = max(first, ObjectHeaderMax)
	head, err := c.readFirstSFI(ctx, fid, first)
	if err != nil {
		return nil, fmt.Errorf("read EF %04X: %w", fid, err)
	}
	return c.ReadRest(ctx, fid, head)
}

// ReadRest completes the object at the start of the current EF (fid names
// it in errors) whose first bytes, head, were read already: exactly the rest
// its header announces.
func (c *Card) ReadRest(ctx context.Context, fid uint16, head []byte) ([]byte, error) {
	_, hl, vl, err := tlv.ParseHeader(head)
	if err != nil {
		return nil, fmt.Errorf("read EF %04X: %w", fid, err)
	}
	total := hl + vl
	if total <= len(head) {
		return head[:total:total], nil
	}
	if total > maxOffset+MaxShortLe {
		return nil, fmt.Errorf("read EF %04X: object of %d bytes is larger than a file can be: %w", fid, total, ErrMalformed)
	}
	out := append(make([]byte, 0, total), head...)
	rest, err := c.readRange(ctx, len(head), total-len(head))
	out = append(out, rest...)
	if err != nil {
		return nil, fmt.Errorf("read EF %04X at %d: %w", fid, len(out), err)
	}
	if len(out) != total {
		return nil, fmt.Errorf("read EF %04X: file ends at %d inside an object of %d bytes: %w", fid, len(out), total, ErrMalformed)
	}
	return out, nil
}

// ReadPhysicalSFI reads all of EF fid by SFI, filler included, up to limit
// bytes (for the 17-byte 個人番号 EF, whose digest covers every byte).
func (c *Card) ReadPhysicalSFI(ctx context.Context, fid uint16, limit int) ([]byte, error) {
	out, err := c.ReadBinarySFI(ctx, fid, 0, min(MaxShortLe, limit))
	if err != nil {
		return nil, fmt.Errorf("read EF %04X: %w", fid, err)
	}
	if len(out) < MaxShortLe {
		return out, nil // a short chunk: the file ends here
	}
	return c.readPhysicalRest(ctx, fid, out, limit)
}

// readPhysicalRest continues a whole-file read of the current EF after
// out, 256 bytes at a time, until the card returns a short chunk or 6B00
// (past the end), or limit bytes are read.
func (c *Card) readPhysicalRest(ctx context.Context, fid uint16, out []byte, limit int) ([]byte, error) {
	for len(out) < limit {
		data, err := c.ReadBinary(ctx, len(out), min(MaxShortLe, limit-len(out)))
		if errors.Is(err, ErrOffset) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read EF %04X at %d: %w", fid, len(out), err)
		}
		out = append(out, data...)
		if len(data) < MaxShortLe {
			break
		}
	}
	return out, nil
}

// ReadPhysical selects EF fid and reads all of it, filler included, until
// the card returns a short chunk or 6B00. Only digests over a whole file need
// this (the 個人番号 EF, docs/card.md §5.6); data is read with ReadObject.
func (c *Card) ReadPhysical(ctx context.Context, fid uint16, limit int) ([]byte, error) {
	if err := c.SelectEF(ctx, fid); err != nil {
		return nil, err
	}
	return c.readPhysicalRest(ctx, fid, nil, limit)
}

// ReadRecord reads record rec (1-based) of the record EF named by sfi, or
// of the current EF when sfi is 0 (00 B2).
func (c *Card) ReadRecord(ctx context.Context, sfi byte, rec int) ([]byte, error) {
	p2 := byte(0x04)
	if sfi != 0 {
		p2 = sfi<<3 | 0x04
	}
	data, err := c.Do(ctx, Command{CLA: 0x00, INS: 0xB2, P1: byte(rec), P2: p2, Le: 256})
	if err != nil {
		return nil, fmt.Errorf("read record %d of SFI %d: %w", rec, sfi, err)
	}
	return data, nil
}

// GetData reads a data object (00 CA). Large objects are refused with 6700
// for a short Le; GetData then asks again with an extended Le.
func (c *Card) GetData(ctx context.Context, tag uint16) ([]byte, error) {
	return c.getData(ctx, tag, false)
}

// GetLargeData reads a data object known to be large (a card-verifiable
// certificate, docs/card.md §2.6) with an extended Le at once, where the
// link carries it, instead of a short Le the card would refuse.
func (c *Card) GetLargeData(ctx context.Context, tag uint16) ([]byte, error) {
	return c.getData(ctx, tag, c.extendedUsable())
}

func (c *Card) getData(ctx context.Context, tag uint16, large bool) ([]byte, error) {
	cmd := Command{CLA: 0x00, INS: 0xCA, P1: byte(tag >> 8), P2: byte(tag), Le: 256}
	if large {
		cmd.Le = MaxExtendedLe
	}
	data, err := c.Do(ctx, cmd)
	switch {
	case large:
		if c.extendedOutcome(err) {
			// The link refused extended length: a short Le, which a
			// small object answers and a large one refuses with 6700.
			cmd.Le = 256
			data, err = c.Do(ctx, cmd)
		}
	case errors.Is(err, ErrWrongLength):
		cmd.Le = MaxExtendedLe
		data, err = c.Do(ctx, cmd)
		c.extendedOutcome(err)
	}
	if err != nil {
		return nil, fmt.Errorf("get data %04X: %w", tag, err)
	}
	return data, nil
}

// KeyCurrent names the current key EF in VERIFY, CHANGE and signature
// commands; KeySFI names a key EF directly.
const KeyCurrent byte = 0x80

// KeySFI returns the P2 that names key EF fid directly (80 | SFI).
func KeySFI(fid uint16) byte { return 0x80 | byte(fid&0x1F) }

// VerifyStatus asks how many tries a key has left without using one: a
// VERIFY with no data (case 1, no Le). It returns the tries left, and
// verified = true if the card answers 9000 (some cards do after a successful
// VERIFY in the same session).
func (c *Card) VerifyStatus(ctx context.Context, p2 byte) (remaining int, verified bool, err error) {
	r, err := c.Transmit(ctx, Command{CLA: 0x00, INS: 0x20, P1: 0x00, P2: p2})
	if err != nil {
		return 0, false, err
	}
	if r.SW == 0x9000 {
		return 0, true, nil
	}
	err = r.Err()
	var wp *WrongPINError
	switch {
	case errors.As(err, &wp):
		return wp.Remaining, false, nil
	case errors.Is(err, ErrBlocked):
		return 0, false, nil
	}
	return 0, false, err
}

// Verify presents a secret (00 20 00 P2). A wrong secret yields a
// *WrongPINError; a blocked key ErrBlocked. The secret never appears in an
// error.
func (c *Card) Verify(ctx context.Context, p2 byte, secret []byte) error {
	_, err := c.Do(ctx, Command{CLA: 0x00, INS: 0x20, P1: 0x00, P2: p2, Data: secret})
	return err
}

// ChangeReferenceData replaces the current key's secret (00 24 01 80); the
// old one must have been verified in this session.
func (c *Card) ChangeReferenceData(ctx context.Context, p2 byte, newSecret []byte) error {
	_, err := c.Do(ctx, Command{CLA: 0x00, INS: 0x24, P1: 0x01, P2: p2, Data: newSecret})
	return err
}

// ChangeKey is JICSAP's CHANGE KEY (80 32 00 80) used by the 共通 and 住基
// applets for their PIN.
func (c *Card) ChangeKey(ctx context.Context, p2 byte, newSecret []byte) error {
	_, err := c.Do(ctx, Command{CLA: 0x80, INS: 0x32, P1: 0x00, P2: p2, Data: newSecret})
	return err
}

// GetChallenge returns n (1-256) random bytes from the card (00 84).
func (c *Card) GetChallenge(ctx context.Context, n int) ([]byte, error) {
	data, err := c.Do(ctx, Command{CLA: 0x00, INS: 0x84, Le: n})
	if err != nil {
		return nil, fmt.Errorf("get challenge: %w", err)
	}
	if len(data) != n {
		return nil, fmt.Errorf("get challenge: %d bytes instead of %d: %w", len(data), n, ErrMalformed)
	}
	return data, nil
}

// ComputeSignature is the card's COMPUTE DIGITAL SIGNATURE (80 2A P1 P2).
// With scheme 00 the card pads input (normally a DER DigestInfo) with
// PKCS#1 v1.5 type 01 and signs it (docs/card.md §4.3).
func (c *Card) ComputeSignature(ctx context.Context, scheme, p2 byte, input []byte) ([]byte, error) {
	data, err := c.Do(ctx, Command{CLA: 0x80, INS: 0x2A, P1: scheme, P2: p2, Data: input, Le: 256})
	if err != nil {
		return nil, fmt.Errorf("compute signature: %w", err)
	}
	return data, nil
}

// InternalAuthenticate signs a challenge with a key named by P2 (00 88).
func (c *Card) InternalAuthenticate(ctx context.Context, p2 byte, challenge []byte) ([]byte, error) {
	data, err := c.Do(ctx, Command{CLA: 0x00, INS: 0x88, P1: 0x00, P2: p2, Data: challenge, Le: 256})
	if err != nil {
		return nil, fmt.Errorf("internal authenticate: %w", err)
	}
	return data, nil
}
