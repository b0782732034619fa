package tlv

import (
	"errors"
	"fmt"
)

// ErrMalformed is the class of every error about bytes that are not a
// well-formed object. Its text is the one package apdu has always printed:
// apdu.ErrMalformed is this same value, so errors.Is(err, apdu.ErrMalformed)
// holds for TLV errors too.
var ErrMalformed = errors.New("apdu: malformed data")

// TLV is one BER-TLV data object. Raw is the whole encoding (tag, length
// and value) exactly as it was read: the J-LIS signatures cover objects "as
// stored", so verifiers hash Raw, never a re-encoding.
type TLV struct {
	Tag   uint32
	Value []byte
	Raw   []byte
}

// Constructed reports whether the tag's first byte has the constructed bit.
func (t TLV) Constructed() bool {
	first := t.Tag
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// Children parses the value as a sequence of BER-TLV objects.
func (t TLV) Children() ([]TLV, error) { return ParseAll(t.Value) }

// maxTagBytes bounds multi-byte tags; the card uses at most two (DF21, 7F21).
const maxTagBytes = 3

// ParseHeader decodes the tag and length at the start of b. It needs only
// the header bytes, so a reader can learn a file's size from a short first
// read. Indefinite lengths are rejected: the card uses definite ones only
// (docs/card.md §2.7). Long lengths of up to four bytes are accepted in any
// form, including the non-minimal 82 00 xx some card files may use.
func ParseHeader(b []byte) (tag uint32, headerLen, valueLen int, err error) {
	if len(b) == 0 {
		return 0, 0, 0, fmt.Errorf("%w: empty TLV", ErrMalformed)
	}
	i := 0
	tag = uint32(b[0])
	if b[0] == 0x00 || b[0] == 0xFF && len(b) > 1 && b[1] == 0xFF {
		// 00 and FF FF are padding, never a tag start on this card.
		return 0, 0, 0, fmt.Errorf("%w: no tag at start (%02X)", ErrMalformed, b[0])
	}
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return 0, 0, 0, fmt.Errorf("%w: truncated tag", ErrMalformed)
			}
			if i >= maxTagBytes {
				return 0, 0, 0, fmt.Errorf("%w: tag longer than %d bytes", ErrMalformed, maxTagBytes)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return 0, 0, 0, fmt.Errorf("%w: truncated length of tag %X", ErrMalformed, tag)
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		valueLen = int(l)
	case l == 0x80:
		return 0, 0, 0, fmt.Errorf("%w: indefinite length in tag %X", ErrMalformed, tag)
	case l <= 0x84:
		n := int(l & 0x7F)
		if i+n > len(b) {
			return 0, 0, 0, fmt.Errorf("%w: truncated length of tag %X", ErrMalformed, tag)
		}
		for _, c := range b[i : i+n] {
			valueLen = valueLen<<8 | int(c)
		}
		if valueLen < 0 || valueLen > 1<<24 {
			return 0, 0, 0, fmt.Errorf("%w: length %d of tag %X", ErrMalformed, valueLen, tag)
		}
		i += n
	default:
		return 0, 0, 0, fmt.Errorf("%w: length form %02X of tag %X", ErrMalformed, l, tag)
	}
	return tag, i, valueLen, nil
}

// Parse decodes the first BER-TLV object of b and returns it with the
// bytes after it.
func Parse(b []byte) (TLV, []byte, error) {
	tag, hl, vl, err := ParseHeader(b)
	if err != nil {
		return TLV{}, nil, err
	}
	if hl+vl > len(b) {
		return TLV{}, nil, fmt.Errorf("%w: tag %X needs %d bytes, %d present", ErrMalformed, tag, hl+vl, len(b))
	}
	end := hl + vl
	return TLV{Tag: tag, Value: b[hl:end:end], Raw: b[:end:end]}, b[end:], nil
}

// ParseAll decodes b as a sequence of BER-TLV objects that fills it exactly.
func ParseAll(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		t, rest, err := Parse(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// Find returns the first object with the tag.
func Find(list []TLV, tag uint32) (TLV, bool) {
	for _, t := range list {
		if t.Tag == tag {
			return t, true
		}
	}
	return TLV{}, false
}

// AppendTag appends the tag bytes of tag to dst.
func AppendTag(dst []byte, tag uint32) []byte {
	switch {
	case tag > 0xFFFFFF:
		return append(dst, byte(tag>>24), byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFFFF:
		return append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		return append(dst, byte(tag>>8), byte(tag))
	}
	return append(dst, byte(tag))
}

// AppendLength appends a BER definite length in its shortest form.
func AppendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xFF:
		return append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		return append(dst, 0x82, byte(n>>8), byte(n))
	}
	return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
}

// Append appends one BER-TLV object with a shortest-form length.
func Append(dst []byte, tag uint32, value []byte) []byte {
	dst = AppendTag(dst, tag)
	dst = AppendLength(dst, len(value))
	return append(dst, value...)
}
