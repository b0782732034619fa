//go:build cgo || windows

package pcsc

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"

	"github.com/mynakit/mynakit/apdu"
)

// pcscError keeps the PC/SC code beside the apdu sentinel it maps to, so
// both errors.Is(err, apdu.ErrCardRemoved) and errors.Is(err,
// scard.ErrRemovedCard) hold.
type pcscError struct {
	kind error
	code scard.Error
}

func (e *pcscError) Error() string { return fmt.Sprintf("%v (%v)", e.kind, e.code) }
func (e *pcscError) Unwrap() []error {
	if e.kind == apdu.ErrNoService {
		// A stopped service is also a reader that is gone, for callers
		// that only wait for readers to come back.
		return []error{e.kind, apdu.ErrReaderGone, e.code}
	}
	return []error{e.kind, e.code}
}

// mapErr turns a PC/SC error into one that matches an apdu sentinel.
func mapErr(err error) error {
	var code scard.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("%w: %v", apdu.ErrTransport, err)
	}
	return &pcscError{kind: kindOf(code), code: code}
}

func kindOf(code scard.Error) error {
	switch code {
	case scard.ErrRemovedCard, scard.ErrUnpoweredCard:
		return apdu.ErrCardRemoved
	case scard.ErrResetCard:
		// Another application reset the card: it is still there, but
		// every verification is gone (Reconnect picks it up again).
		return apdu.ErrCardReset
	case scard.ErrNoSmartcard:
		return apdu.ErrNoCard
	case scard.ErrNoService, scard.ErrServiceStopped:
		return apdu.ErrNoService
	case scard.ErrReaderUnavailable, scard.ErrUnknownReader, scard.ErrNoReadersAvailable, scard.ErrShutdown:
		return apdu.ErrReaderGone
	}
	return apdu.ErrTransport
}
