package tlv

import "fmt"

// Simple is one simple-TLV object of a record EF (JICSAP simple-TLV: one tag byte,
// a length of one byte 00-FE or FF hh ll). Record EFs never hold BER-TLV.
type Simple struct {
	Tag   byte
	Value []byte
}

// ParseSimple decodes the first simple-TLV object of b.
func ParseSimple(b []byte) (Simple, []byte, error) {
	if len(b) < 2 {
		return Simple{}, nil, fmt.Errorf("%w: simple-TLV of %d bytes", ErrMalformed, len(b))
	}
	tag := b[0]
	if tag == 0x00 || tag == 0xFF {
		return Simple{}, nil, fmt.Errorf("%w: simple-TLV tag %02X", ErrMalformed, tag)
	}
	n, i := int(b[1]), 2
	if b[1] == 0xFF {
		if len(b) < 4 {
			return Simple{}, nil, fmt.Errorf("%w: truncated simple-TLV length", ErrMalformed)
		}
		n, i = int(b[2])<<8|int(b[3]), 4
	}
	if i+n > len(b) {
		return Simple{}, nil, fmt.Errorf("%w: simple-TLV tag %02X needs %d bytes, %d present", ErrMalformed, tag, n, len(b)-i)
	}
	return Simple{Tag: tag, Value: b[i : i+n : i+n]}, b[i+n:], nil
}

// AppendSimple appends one simple-TLV object.
func AppendSimple(dst []byte, tag byte, value []byte) []byte {
	dst = append(dst, tag)
	if len(value) < 0xFF {
		dst = append(dst, byte(len(value)))
	} else {
		dst = append(dst, 0xFF, byte(len(value)>>8), byte(len(value)))
	}
	return append(dst, value...)
}
