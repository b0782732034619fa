// Package pcsc is the apdu.Transport for PC/SC readers (pcsc-lite on Linux
// and macOS, WinSCard on Windows) through github.com/ebfe/scard.
//
// It needs cgo. A CGO_ENABLED=0 build still compiles: Establish then
// returns an error matching apdu.ErrUnavailable, and the simulator keeps
// working.
package pcsc

import "time"

// ShareMode says whether other applications may use the card while this one
// holds a connection.
type ShareMode int

const (
	// ShareShared lets other applications connect too; multi-APDU work is
	// protected by transactions instead (Begin and End, which mynakit.Card
	// holds around each operation).
	ShareShared ShareMode = iota
	// ShareExclusive keeps the card to this connection. Some contactless
	// readers refuse it (docs/card.md §3.7).
	ShareExclusive
)

// ReaderInfo is one reader as PC/SC sees it.
type ReaderInfo struct {
	Name        string `json:"name"`
	CardPresent bool   `json:"card_present"`
	ATR         []byte `json:"-"`
}

// pollInterval bounds each wait for a reader event so a cancelled context
// is noticed even if SCardCancel does not reach a blocked call.
const pollInterval = 500 * time.Millisecond

// removalSettle is how long a failed transmit waits for PC/SC to say
// whether the card is gone.
const removalSettle = 1500 * time.Millisecond
