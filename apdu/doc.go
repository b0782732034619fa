// Package apdu speaks ISO/IEC 7816-4 to a smart card: it encodes command
// APDUs (cases 1-4, short and extended length), parses responses, maps status
// words to typed errors usable with errors.Is and errors.As, and reads files
// the way the Individual Number Card wants them read: the TLV header first
// (package tlv), then exactly the rest.
//
// The package knows nothing about PC/SC or the simulator; both provide a
// Transport. Card wraps a Transport and handles 61xx (GET RESPONSE) and
// 6Cxx (wrong Le) once, here, so no caller ever sees them.
package apdu
