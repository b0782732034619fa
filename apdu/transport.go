package apdu

import "context"

// Transport carries raw APDUs to a card and back. Transmit takes an encoded
// command APDU and returns the raw response APDU (data and status word).
// Implementations: apdu/pcsc (a PC/SC reader) and the simulator (in process).
//
// A transport reports a pulled card as an error matching ErrCardRemoved, a
// vanished reader as ErrReaderGone.
type Transport interface {
	Transmit(ctx context.Context, cmd []byte) ([]byte, error)
	Close() error
}

// Transactor is implemented by transports that can hold the card for one
// client across several APDUs (PC/SC SCardBeginTransaction). Multi-APDU work
// (select, verify, read) runs inside one transaction so another application
// cannot reselect the card in between.
type Transactor interface {
	Begin(ctx context.Context) error
	End() error
}

// Resetter is implemented by transports that can warm-reset the card, which
// clears every verification the card holds.
type Resetter interface {
	Reset(ctx context.Context) error
}

// ExtendedLengthReporter is implemented by transports that know whether
// extended-length APDUs get through (a reader that cannot carry them, or a
// link that drops them). When a transport does not implement it, Card tries
// extended reads once and falls back to short reads on failure.
type ExtendedLengthReporter interface {
	ExtendedLength() bool
}

// MaxAPDUReporter is implemented by transports that may know the longest
// APDU the reader carries (PC/SC SCARD_ATTR_MAXINPUT); 0 means unknown.
// Card asks once per connection: above 261 bytes (the longest short APDU)
// extended length is used, below it short APDUs only, and when unknown the
// first long read probes.
type MaxAPDUReporter interface {
	MaxAPDU() int
}

// Reconnector is implemented by transports that can pick up a card that
// another application reset (PC/SC SCardReconnect, leaving the card as it
// is). After a reset every verification is gone; the card itself is the
// same.
type Reconnector interface {
	Reconnect(ctx context.Context) error
}
