package apdu

import (
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/tlv"
)

// Sentinel errors for the status words a caller acts on. A *StatusError
// matches the sentinel of its status word with errors.Is.
var (
	ErrMalformed        = tlv.ErrMalformed
	ErrWrongLength      = errors.New("wrong length")                      // 6700
	ErrChannel          = errors.New("logical channel not supported")     // 6881
	ErrSecureMessaging  = errors.New("secure messaging not supported")    // 6882, 69FC
	ErrIncompatibleFile = errors.New("command incompatible with file")    // 6981
	ErrSecurityStatus   = errors.New("security status not satisfied")     // 6982
	ErrBlocked          = errors.New("authentication method blocked")     // 6983, 6984
	ErrConditions       = errors.New("conditions of use not satisfied")   // 6985
	ErrNoCurrentEF      = errors.New("no current EF")                     // 6986
	ErrIncorrectData    = errors.New("incorrect data field")              // 6A80
	ErrNotSupported     = errors.New("function not supported")            // 6A81
	ErrFileNotFound     = errors.New("file not found")                    // 6A82
	ErrRecordNotFound   = errors.New("record not found")                  // 6A83
	ErrIncorrectP1P2    = errors.New("incorrect P1/P2")                   // 6A86
	ErrDataNotFound     = errors.New("referenced data not found")         // 6A88
	ErrOffset           = errors.New("offset outside the file")           // 6B00
	ErrINSNotSupported  = errors.New("instruction not supported")         // 6D00
	ErrCLANotSupported  = errors.New("class not supported")               // 6E00
	ErrVerifyFailed     = errors.New("verification failed")               // 63xx
	ErrCardRemoved      = errors.New("card removed")                      // transport
	ErrCardReset        = errors.New("card reset by another application") // transport
	ErrReaderGone       = errors.New("reader not available")              // transport
	ErrNoCard           = errors.New("no card in reader")                 // transport
	ErrTransport        = errors.New("transport failure")                 // transport
	ErrUnavailable      = errors.New("PC/SC not available in this build") // no cgo
	// ErrNoService: the smart-card service (pcscd, or Windows' SCardSvr)
	// is not running. Errors that match it match ErrReaderGone too.
	ErrNoService = errors.New("smart-card service not running") // transport
)

// StatusError is a status word other than 9000.
type StatusError struct {
	SW uint16
}

func (e *StatusError) Error() string {
	if s := swSentinel(e.SW); s != nil {
		return fmt.Sprintf("card answered %04X (%v)", e.SW, s)
	}
	return fmt.Sprintf("card answered %04X", e.SW)
}

// Is lets errors.Is match a StatusError against the sentinel of its status
// word (for example ErrFileNotFound for 6A82).
func (e *StatusError) Is(target error) bool {
	return target != nil && swSentinel(e.SW) == target
}

func swSentinel(sw uint16) error {
	switch {
	case sw == 0x6700:
		return ErrWrongLength
	case sw == 0x6881:
		return ErrChannel
	case sw == 0x6882 || sw == 0x69FC:
		return ErrSecureMessaging
	case sw == 0x6981:
		return ErrIncompatibleFile
	case sw == 0x6982:
		return ErrSecurityStatus
	case sw == 0x6983 || sw == 0x6984:
		return ErrBlocked
	case sw == 0x6985:
		return ErrConditions
	case sw == 0x6986:
		return ErrNoCurrentEF
	case sw == 0x6A80:
		return ErrIncorrectData
	case sw == 0x6A81:
		return ErrNotSupported
	case sw == 0x6A82:
		return ErrFileNotFound
	case sw == 0x6A83:
		return ErrRecordNotFound
	case sw == 0x6A86:
		return ErrIncorrectP1P2
	case sw == 0x6A88:
		return ErrDataNotFound
	case sw == 0x6B00:
		return ErrOffset
	case sw == 0x6D00:
		return ErrINSNotSupported
	case sw == 0x6E00:
		return ErrCLANotSupported
	case sw&0xFF00 == 0x6300:
		return ErrVerifyFailed
	}
	return nil
}

// WrongPINError is a failed VERIFY (63Cx): the secret was wrong, or (for a
// VERIFY without data) the key is not yet verified. Remaining is the number of
// tries left; 0 means the key is now blocked.
type WrongPINError struct {
	Remaining int
}

func (e *WrongPINError) Error() string {
	if e.Remaining == 0 {
		return "verification failed: no tries left, key blocked"
	}
	return fmt.Sprintf("verification failed: %d tries left", e.Remaining)
}

// Is matches ErrVerifyFailed, and ErrBlocked when no try is left.
func (e *WrongPINError) Is(target error) bool {
	return target == ErrVerifyFailed || (e.Remaining == 0 && target == ErrBlocked)
}

// statusErr converts a status word into nil (9000) or a typed error.
func statusErr(sw uint16) error {
	switch {
	case sw == 0x9000:
		return nil
	case sw&0xFFF0 == 0x63C0:
		return &WrongPINError{Remaining: int(sw & 0x0F)}
	}
	return &StatusError{SW: sw}
}

// Answered reports whether err is the card's own answer — a status word
// other than 9000, or data that does not parse — as opposed to a command
// that never got an answer (a pulled card, a vanished reader, a reset, a
// cancelled context). Readers treat an answer a genuine card never gives as
// evidence about the card, and a lost command as a failure of the link.
func Answered(err error) bool {
	var se *StatusError
	var wp *WrongPINError
	return errors.As(err, &se) || errors.As(err, &wp) || errors.Is(err, ErrMalformed)
}
