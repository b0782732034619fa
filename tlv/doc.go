// Package tlv encodes and decodes the two tag-length-value forms the
// Individual Number Card stores: BER-TLV (ISO/IEC 8825-1 definite lengths,
// the form of transparent EFs and CV certificates) and the simple-TLV of
// record EFs (one tag byte, a length of one byte or FF and two bytes).
//
// Parsing is strict and bounded: indefinite lengths, tags longer than three
// bytes, lengths over 16 MiB and values that run past the input are errors
// matching ErrMalformed. Parsed objects keep their exact encoding (TLV.Raw),
// because the J-LIS signatures cover objects as stored.
package tlv
