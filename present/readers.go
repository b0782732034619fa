package present

import (
	"encoding/hex"
	"strings"
)

// Readers is the list of PC/SC readers (an empty list, never null, when
// there are none).
type Readers struct {
	Readers []Reader `json:"readers"`
}

// Reader is one reader: its name, whether it holds a card, and the card's
// ATR in upper-case hex.
type Reader struct {
	Name        string `json:"name"`
	CardPresent bool   `json:"card_present"`
	ATR         string `json:"atr,omitempty"`
}

// ReaderOf is a reader's entry.
func ReaderOf(name string, cardPresent bool, atr []byte) Reader {
	return Reader{Name: name, CardPresent: cardPresent, ATR: strings.ToUpper(hex.EncodeToString(atr))}
}

// ReaderList is the list of readers.
func ReaderList(readers []Reader) Readers {
	if readers == nil {
		readers = []Reader{}
	}
	return Readers{Readers: readers}
}
