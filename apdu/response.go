package apdu

import "fmt"

// Response is a response APDU: the data field and the status word.
type Response struct {
	Data []byte
	SW   uint16
}

// SW1 and SW2 are the two status bytes.
func (r Response) SW1() byte { return byte(r.SW >> 8) }
func (r Response) SW2() byte { return byte(r.SW) }

// OK reports whether the status word is 9000.
func (r Response) OK() bool { return r.SW == 0x9000 }

// Err is nil for 9000 and a typed error otherwise (*WrongPINError for 63Cx,
// *StatusError for the rest).
func (r Response) Err() error { return statusErr(r.SW) }

// Bytes encodes the response as it travels: data then SW1 SW2.
func (r Response) Bytes() []byte {
	out := make([]byte, len(r.Data)+2)
	copy(out, r.Data)
	out[len(r.Data)], out[len(r.Data)+1] = r.SW1(), r.SW2()
	return out
}

// ParseResponse splits a response APDU into data and status word. The data
// slice aliases b.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: response of %d bytes", ErrMalformed, len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}
