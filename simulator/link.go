package simulator

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Link models how long a reader link takes to carry one APDU and its
// response, and how long the card works on it. Every byte counts: on a
// contact reader at the card's default rate one byte takes about a
// millisecond, so a read's time is mostly its bytes.
type Link struct {
	Name string
	// ByteTime is one byte on the wire: a character's etu times the etu.
	ByteTime time.Duration
	// FrameOverhead is the bytes each frame adds around its payload, and
	// MaxPayload the payload a frame carries (T=1: the IFSC/IFSD; ISO/IEC
	// 14443-4: the FSC/FSD less the block header). A longer APDU or
	// response is chained over several frames, each chained frame
	// acknowledged by the other side with an AckBytes frame.
	FrameOverhead, MaxPayload, AckBytes int
	// Turnaround is the time between frames in opposite directions (the
	// block guard time on contact; the frame delay time contactless).
	Turnaround time.Duration
	// Card is how long the card itself works.
	Card CardTime
}

// CardTime is the card's own processing time per kind of command. The card
// reference gives none; these are assumptions of the usual order for a
// smart card with an RSA coprocessor, stated so a reader of the figures can
// redo them with other values.
type CardTime struct {
	// Verify: a VERIFY with a secret writes the retry counter to
	// non-volatile memory (a few ms per page write, usually more than one).
	Verify time.Duration
	// Sign: COMPUTE DIGITAL SIGNATURE and INTERNAL AUTHENTICATE are an
	// RSA-2048 private-key operation (CRT) on the coprocessor.
	Sign time.Duration
	// Challenge: GET CHALLENGE runs the random number generator.
	Challenge time.Duration
	// Other: SELECT, READ BINARY, READ RECORD, GET DATA, a tries query.
	Other time.Duration
}

// DefaultCardTime is used by every profile: VERIFY 20 ms, a signature
// 150 ms, GET CHALLENGE 5 ms, anything else 1 ms.
var defaultCardTime = CardTime{Verify: 20 * time.Millisecond, Sign: 150 * time.Millisecond, Challenge: 5 * time.Millisecond, Other: time.Millisecond}

// DefaultCardTime returns the card times every profile assumes.
func DefaultCardTime() CardTime { return defaultCardTime }

// etu is the elementary time unit F / (D × f) of ISO/IEC 7816-3.
func etu(f, d int, clockHz float64) time.Duration {
	return time.Duration(float64(f) / (float64(d) * clockHz) * float64(time.Second))
}

// Links are the profiles a read is measured on:
//
//   - "contact": the card's usual contact ATR (3B E0 00 FF 81 31 FE 45 14)
//     has no TA1, so the reader stays at the default Fi = 372, Di = 1; with
//     a 4 MHz clock an etu is 93 µs and a character (start, 8 data bits,
//     parity, guard: 11 etu under T=1 with N = 0) 1.02 ms. T=1 blocks add
//     NAD, PCB, LEN and LRC (4 bytes); the ATR's TA3 = FE gives IFSC 254,
//     and a longer APDU is chained with an R-block (4 bytes) acknowledging
//     each chained block; the block guard time is 22 etu (2 ms).
//   - "contact-fast": the same card with TA1 = 13 (Fi = 372, Di = 4): a
//     quarter of the time per byte, 256 µs.
//   - "contactless": ISO/IEC 14443 Type B at 212 kbit/s: 10 etu per
//     character (start, 8 bits, stop) is 47 µs per byte; an I-block adds
//     PCB and the 2-byte CRC, and start and end of frame take about 24
//     etu (accounted as 3 bytes); frames of 256 bytes (FSC = FSD = 256,
//     so 253 bytes of payload), R-blocks of 3 bytes, and about 200 µs of
//     frame delay between directions.
func Links() []Link {
	contact := etu(372, 1, 4e6)
	fast := etu(372, 4, 4e6)
	nfc := time.Second / 212000 // one bit at 212 kbit/s: 4.7 µs
	return []Link{
		{Name: "contact", ByteTime: 11 * contact, FrameOverhead: 4, MaxPayload: 254, AckBytes: 4, Turnaround: 22 * contact, Card: defaultCardTime},
		{Name: "contact-fast", ByteTime: 11 * fast, FrameOverhead: 4, MaxPayload: 254, AckBytes: 4, Turnaround: 22 * fast, Card: defaultCardTime},
		{Name: "contactless", ByteTime: 10 * nfc, FrameOverhead: 6, MaxPayload: 253, AckBytes: 6, Turnaround: 200 * time.Microsecond, Card: defaultCardTime},
	}
}

// ParseLink finds a profile by name.
func ParseLink(name string) (Link, error) {
	var names []string
	for _, l := range Links() {
		if l.Name == name {
			return l, nil
		}
		names = append(names, l.Name)
	}
	return Link{}, fmt.Errorf("no link profile %q (want %s)", name, strings.Join(names, ", "))
}

// frames is the number of frames n bytes take.
func (l Link) frames(n int) int {
	if n <= 0 {
		return 1
	}
	return (n + l.MaxPayload - 1) / l.MaxPayload
}

// Cost is the modelled time of one exchange: the command and response
// bytes with their framing and chaining, the turnarounds, and the card's
// work on the command (named by its INS byte).
func (l Link) Cost(cmdLen, respLen int, ins byte) time.Duration {
	cf, rf := l.frames(cmdLen), l.frames(respLen)
	bytes := cmdLen + respLen + (cf+rf)*l.FrameOverhead + (cf-1+rf-1)*l.AckBytes
	turns := 1 + 2*(cf-1) + 2*(rf-1)
	return time.Duration(bytes)*l.ByteTime + time.Duration(turns)*l.Turnaround + l.Card.of(ins, cmdLen)
}

func (c CardTime) of(ins byte, cmdLen int) time.Duration {
	switch ins {
	case 0x20:
		if cmdLen > 4 {
			return c.Verify
		}
	case 0x2A, 0x88:
		return c.Sign
	case 0x84:
		return c.Challenge
	}
	return c.Other
}

// LinkMeter adds up the modelled time of every exchange of a card made
// with WithLinkMeter, without waiting for it.
type LinkMeter struct {
	mu      sync.Mutex
	link    Link
	elapsed time.Duration
}

// NewLinkMeter meters exchanges on link.
func NewLinkMeter(link Link) *LinkMeter { return &LinkMeter{link: link} }

// Elapsed is the modelled time so far.
func (m *LinkMeter) Elapsed() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.elapsed
}

func (m *LinkMeter) add(d time.Duration) {
	m.mu.Lock()
	m.elapsed += d
	m.mu.Unlock()
}

// WithLink makes the card take as long as the link would: every exchange
// is delayed by its modelled time (Link.Cost). For a demo or a bridge that
// should feel like a real reader.
func WithLink(l Link) Option { return func(c *config) { c.link = &l } }

// WithLinkMeter adds each exchange's modelled time on the meter's link to
// the meter, without delaying anything (for benchmarks).
func WithLinkMeter(m *LinkMeter) Option { return func(c *config) { c.meter = m } }
