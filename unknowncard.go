package mynakit

import (
	"encoding/hex"
	"strings"
)

// UnknownCardError: the card in the reader answers none of the My Number
// Card's applets (docs/card.md §7.2: a card is recognised by SELECT, not by
// its ATR). It is an error, not a verdict: nothing was read to judge.
type UnknownCardError struct {
	ATR []byte
}

func (e *UnknownCardError) Error() string {
	return "not a My Number Card: it answers none of the JPKI, text and card-face applets (ATR " + e.ATRHex() + ")"
}

// ATRHex is the card's answer to reset in spaced upper-case hex ("unknown"
// when the reader did not give it).
func (e *UnknownCardError) ATRHex() string {
	if len(e.ATR) == 0 {
		return "unknown"
	}
	h := strings.ToUpper(hex.EncodeToString(e.ATR))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
