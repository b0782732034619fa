package apdu

import (
	"errors"
	"fmt"
)

// Maximum lengths of the data field and of the expected response.
const (
	MaxShortLc    = 255
	MaxShortLe    = 256
	MaxExtendedLc = 65535
	MaxExtendedLe = 65536
)

// Command is a command APDU. Le is the number of response bytes expected:
// 0 means no Le field (cases 1 and 3); 1..256 fit a short Le (256 is sent as
// 00); up to 65536 need an extended Le (65536 is sent as 0000).
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Le               int
	// Extended forces the extended length form even when the lengths would
	// fit in short form.
	Extended bool
}

// ErrBadCommand reports a command that cannot be encoded.
var ErrBadCommand = errors.New("apdu: command cannot be encoded")

// IsExtended reports whether the command is encoded with extended lengths.
func (c Command) IsExtended() bool {
	return c.Extended || len(c.Data) > MaxShortLc || c.Le > MaxShortLe
}

// Bytes encodes the command (ISO/IEC 7816-4 §5.1).
func (c Command) Bytes() ([]byte, error) {
	if len(c.Data) > MaxExtendedLc {
		return nil, fmt.Errorf("%w: data of %d bytes", ErrBadCommand, len(c.Data))
	}
	if c.Le < 0 || c.Le > MaxExtendedLe {
		return nil, fmt.Errorf("%w: Le %d", ErrBadCommand, c.Le)
	}
	out := make([]byte, 4, 4+3+len(c.Data)+3)
	out[0], out[1], out[2], out[3] = c.CLA, c.INS, c.P1, c.P2
	ext := c.IsExtended()
	if len(c.Data) > 0 {
		if ext {
			out = append(out, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		} else {
			out = append(out, byte(len(c.Data)))
		}
		out = append(out, c.Data...)
	}
	if c.Le > 0 {
		switch {
		case !ext:
			out = append(out, byte(c.Le)) // 256 encodes as 00
		case len(c.Data) > 0:
			out = append(out, byte(c.Le>>8), byte(c.Le)) // 65536 encodes as 0000
		default:
			out = append(out, 0, byte(c.Le>>8), byte(c.Le))
		}
	}
	return out, nil
}

// String shows the header and lengths, never the data: the data of a VERIFY
// is a secret.
func (c Command) String() string {
	return fmt.Sprintf("%02X %02X %02X %02X Lc=%d Le=%d", c.CLA, c.INS, c.P1, c.P2, len(c.Data), c.Le)
}

// ParseCommand decodes a command APDU, accepting every case in short and
// extended form. It is the inverse of Bytes and is what a card (the
// simulator) uses to read what it was sent.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2 short
		c.Le = int(body[0])
		if c.Le == 0 {
			c.Le = 256
		}
		return c, nil
	case body[0] != 0: // short case 3 or 4
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.Data = body[1:]
		case 2 + lc:
			c.Data = body[1 : 1+lc]
			c.Le = int(body[1+lc])
			if c.Le == 0 {
				c.Le = 256
			}
		default:
			return Command{}, fmt.Errorf("%w: Lc %d with %d body bytes", ErrMalformed, lc, len(body))
		}
		return c, nil
	}
	// Extended forms: body starts with 00.
	c.Extended = true
	if len(body) == 3 { // case 2 extended
		c.Le = int(body[1])<<8 | int(body[2])
		if c.Le == 0 {
			c.Le = 65536
		}
		return c, nil
	}
	if len(body) < 3 {
		return Command{}, fmt.Errorf("%w: truncated extended length", ErrMalformed)
	}
	lc := int(body[1])<<8 | int(body[2])
	if lc == 0 {
		return Command{}, fmt.Errorf("%w: extended Lc of zero", ErrMalformed)
	}
	switch len(body) {
	case 3 + lc:
		c.Data = body[3:]
	case 5 + lc:
		c.Data = body[3 : 3+lc]
		c.Le = int(body[3+lc])<<8 | int(body[4+lc])
		if c.Le == 0 {
			c.Le = 65536
		}
	default:
		return Command{}, fmt.Errorf("%w: extended Lc %d with %d body bytes", ErrMalformed, lc, len(body))
	}
	return c, nil
}
