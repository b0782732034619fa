//go:build cgo

package pcsc

import (
	"errors"
	"testing"

	"github.com/ebfe/scard"

	"github.com/mynakit/mynakit/apdu"
)

func TestErrorMapping(t *testing.T) {
	cases := map[scard.Error]error{
		scard.ErrRemovedCard:       apdu.ErrCardRemoved,
		scard.ErrResetCard:         apdu.ErrCardReset,
		scard.ErrNoSmartcard:       apdu.ErrNoCard,
		scard.ErrReaderUnavailable: apdu.ErrReaderGone,
		scard.ErrUnknownReader:     apdu.ErrReaderGone,
		scard.ErrNoService:         apdu.ErrReaderGone,
		scard.ErrSharingViolation:  apdu.ErrTransport,
	}
	for code, want := range cases {
		err := mapErr(code)
		if !errors.Is(err, want) {
			t.Errorf("%v mapped to %v, want %v", code, err, want)
		}
		if !errors.Is(err, code) {
			t.Errorf("%v lost its PC/SC code", code)
		}
	}
	for _, code := range []scard.Error{scard.ErrNoService, scard.ErrServiceStopped} {
		if err := mapErr(code); !errors.Is(err, apdu.ErrNoService) {
			t.Errorf("%v mapped to %v, want ErrNoService", code, err)
		}
	}
	if err := mapErr(errors.New("odd")); !errors.Is(err, apdu.ErrTransport) {
		t.Errorf("unknown error mapped to %v", err)
	}
}
