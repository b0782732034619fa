package pcsc

import "bytes"

// ReaderState is one reader as a Watcher last saw it.
type ReaderState struct {
	ReaderInfo
	// Events counts the card events PC/SC has seen on the reader (the
	// upper 16 bits of the reader's event state, kept by pcsc-lite and
	// WinSCard alike). A card pulled and another put in between two looks
	// leaves CardPresent true but changes Events.
	Events int
}

// sameReaders reports whether two snapshots show the same readers, cards
// and card events.
func sameReaders(a, b []ReaderState) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.CardPresent != y.CardPresent || x.Events != y.Events || !bytes.Equal(x.ATR, y.ATR) {
			return false
		}
	}
	return true
}
