// Package simulator is a software Individual Number Card. Given a card
// image (see Image) it answers command APDUs the way docs/card.md says
// the real card does: the same files, access conditions, retry counters,
// status words and quirks, closely enough that OpenSC's jpki driver accepts
// it. It runs in process (Card is an apdu.Transport) or behind pcscd
// through simulator/vpcd.
//
// Faults are part of the simulator: removal after the Nth APDU, a slow
// link, corrupted responses, chosen status words, and 61xx/6Cxx chaining.
package simulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// Card is a simulated card. It is safe for concurrent use; commands are
// processed one at a time, as a card does.
type Card struct {
	mu      sync.Mutex
	cfg     config
	atr     []byte
	applets []*applet
	byAID   map[string]*applet
	getData map[uint16][]byte
	rng     io.Reader

	present bool
	powered bool
	current *applet // nil: the power-on (MF / ISD) state
	curEF   uint16  // 0: none
	// verified holds the key EFs verified in the current applet; selecting
	// an applet or resetting clears it (docs/card.md §3.7).
	verified map[uint16]bool
	pending  []byte // data waiting for GET RESPONSE in chaining mode
	// resetPending: another application reset the card; every command
	// fails with apdu.ErrCardReset until Reconnect.
	resetPending bool

	apdus atomic.Int64
}

type applet struct {
	aid    []byte
	aidHex string
	kind   myna.Applet // 0 when the AID is not one of the five known
	files  map[uint16]*file
	keys   map[uint16]*keyEF
	priv   map[uint16]*rsa.PrivateKey
	src    *Applet
}

type file struct {
	data    []byte
	records [][]byte
	access  []uint16
	hasData bool
}

type keyEF struct {
	value     []byte
	hasValue  bool
	remaining int
	max       int
}

type config struct {
	removeAfter       int64
	resetAt           map[int64]bool
	flipAt            int64
	perAPDU, perByte  time.Duration
	corruptEvery      int64
	fault             func(apdu.Command) (uint16, bool)
	chaining          bool
	countInterrupted  bool
	verifiedQuery9000 bool
	link              *Link
	meter             *LinkMeter
	shortOnly         bool
}

// Option configures a simulated card.
type Option func(*config)

// WithRemovalAfter pulls the card after n APDUs: the (n+1)th and every
// later Transmit fail with apdu.ErrCardRemoved. A VERIFY caught by the
// removal is counted against its key (see WithInterruptedVerifyCounted).
func WithRemovalAfter(n int) Option { return func(c *config) { c.removeAfter = int64(n) } }

// WithResetAt has another application reset the card just before each
// nth APDU named: that command and every later one fail with
// apdu.ErrCardReset until the client calls Reconnect, and every
// verification is lost, as PC/SC reports a reset by another process
// (SCARD_W_RESET_CARD).
func WithResetAt(n ...int) Option {
	return func(c *config) {
		c.resetAt = map[int64]bool{}
		for _, k := range n {
			c.resetAt[int64(k)] = true
		}
	}
}

// WithBitFlip flips the lowest bit of the first byte of the nth response
// (its first data byte, or SW1 when it has no data): a link that corrupts
// one answer once.
func WithBitFlip(n int) Option { return func(c *config) { c.flipAt = int64(n) } }

// WithInterruptedVerifyCounted says whether a VERIFY interrupted by the
// removal fault used a try (default true: the card had decremented the
// counter before the link dropped, which is the worst case for a client).
func WithInterruptedVerifyCounted(counted bool) Option {
	return func(c *config) { c.countInterrupted = counted }
}

// WithDelay slows every APDU by perAPDU plus perByte for each response byte.
func WithDelay(perAPDU, perByte time.Duration) Option {
	return func(c *config) { c.perAPDU, c.perByte = perAPDU, perByte }
}

// WithCorruption flips a bit of every Nth response's data.
func WithCorruption(everyN int) Option { return func(c *config) { c.corruptEvery = int64(everyN) } }

// WithFault lets a test answer chosen commands with a status word of its
// choice before the card processes them (for refusals part-way through).
func WithFault(f func(cmd apdu.Command) (sw uint16, ok bool)) Option {
	return func(c *config) { c.fault = f }
}

// WithChaining makes the card answer long responses with 61xx, to be
// collected with GET RESPONSE, and a READ BINARY whose Le exceeds the file
// with 6Cxx, to exercise clients. Real cards were not seen doing either.
func WithChaining(on bool) Option { return func(c *config) { c.chaining = on } }

// WithVerifiedQuery9000 makes a VERIFY without data answer 9000 for a key
// already verified in this session, as some cards reportedly do (card
// reference §3.2). Off by default: OpenSC's bind fails on it.
func WithVerifiedQuery9000(on bool) Option { return func(c *config) { c.verifiedQuery9000 = on } }

// New builds a card from an image. The image is copied: the card's state
// (counters, changed PINs) never writes back into it; see Snapshot.
func New(img *Image, opts ...Option) (*Card, error) {
	if err := img.Validate(); err != nil {
		return nil, err
	}
	c := &Card{
		cfg:      config{countInterrupted: true},
		atr:      append([]byte(nil), img.ATR...),
		byAID:    map[string]*applet{},
		getData:  map[uint16][]byte{},
		rng:      rand.Reader,
		present:  true,
		powered:  true,
		verified: map[uint16]bool{},
	}
	for _, o := range opts {
		o(&c.cfg)
	}
	for tag, v := range img.GetData {
		t, _ := ParseFID(tag)
		c.getData[t] = append([]byte(nil), v...)
	}
	aids := make([]string, 0, len(img.Applets))
	for a := range img.Applets {
		aids = append(aids, a)
	}
	sort.Strings(aids)
	for _, aidHex := range aids {
		src := img.Applets[aidHex]
		aid, _ := hex.DecodeString(aidHex)
		ap := &applet{aid: aid, aidHex: aidHex, files: map[uint16]*file{}, keys: map[uint16]*keyEF{}, priv: map[uint16]*rsa.PrivateKey{}, src: src}
		ap.kind, _ = myna.AppletByAID(aid)
		for fidS, f := range src.Files {
			fid, _ := ParseFID(fidS)
			acc, _ := ParseAccess(f.Access)
			nf := &file{access: acc, hasData: f.Data != nil || f.Records == nil}
			nf.data = append([]byte(nil), f.Data...)
			for _, r := range f.Records {
				nf.records = append(nf.records, append([]byte(nil), r...))
			}
			if f.Records != nil {
				nf.hasData = false
			}
			ap.files[fid] = nf
		}
		for fidS, k := range src.Keys {
			fid, _ := ParseFID(fidS)
			nk := &keyEF{remaining: k.Remaining, max: k.Max}
			if k.Value != nil {
				nk.value, nk.hasValue = []byte(string(*k.Value)), true
			}
			ap.keys[fid] = nk
		}
		for fidS, p := range src.PrivateKeys {
			fid, _ := ParseFID(fidS)
			key, err := parsePrivateKey(p)
			if err != nil {
				return nil, fmt.Errorf("card image: applet %s private key %s: %w", aidHex, fidS, err)
			}
			ap.priv[fid] = key
		}
		c.applets = append(c.applets, ap)
		c.byAID[string(aid)] = ap
	}
	return c, nil
}

func parsePrivateKey(p string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if k1, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 == nil {
			return k1, nil
		}
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key")
	}
	return rk, nil
}

// ATR is the card's answer to reset.
func (c *Card) ATR() []byte { return append([]byte(nil), c.atr...) }

// ExtendedLength: the card accepts extended Lc/Le (docs/card.md §4.1),
// unless WithShortAPDUsOnly models a reader that does not carry them.
func (c *Card) ExtendedLength() bool { return !c.cfg.shortOnly }

// WithShortAPDUsOnly models a reader that carries short APDUs only:
// every extended APDU is answered 6700.
func WithShortAPDUsOnly() Option { return func(c *config) { c.shortOnly = true } }

// APDUs is the number of command APDUs the card has received.
func (c *Card) APDUs() int64 { return c.apdus.Load() }

// Close pulls the card.
func (c *Card) Close() error {
	c.Remove()
	return nil
}

// Remove pulls the card from the reader.
func (c *Card) Remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.present = false
	c.resetLocked()
}

// Insert puts the card back (powered, in its power-on state).
func (c *Card) Insert() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.present, c.powered = true, true
	c.resetPending = false
	c.cfg.removeAfter = 0
	c.resetLocked()
}

// Present reports whether the card is in the reader.
func (c *Card) Present() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.present
}

// PowerOn powers the card up into its power-on state.
func (c *Card) PowerOn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.powered = true
	c.resetLocked()
}

// PowerOff cuts power: every verification is lost.
func (c *Card) PowerOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.powered = false
	c.resetLocked()
}

// Reset warm-resets the card.
func (c *Card) Reset(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.present {
		return apdu.ErrCardRemoved
	}
	c.powered = true
	c.resetLocked()
	return nil
}

func (c *Card) resetLocked() {
	c.current, c.curEF, c.pending = nil, 0, nil
	c.verified = map[uint16]bool{}
}

// ResetByOther resets the card as another application would: the next
// commands fail with apdu.ErrCardReset until Reconnect.
func (c *Card) ResetByOther() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetPending = true
	c.resetLocked()
}

// Reconnect acknowledges a reset (apdu.Reconnector), as SCardReconnect
// does; the card stays in its power-on state.
func (c *Card) Reconnect(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.present {
		return apdu.ErrCardRemoved
	}
	c.resetPending = false
	return nil
}

// TestAnchors names the simulator's own test hierarchy, which signs every
// persona's card (mynakit.TestAnchorProvider): a reader trusts it for an
// in-process simulated card only.
func (c *Card) TestAnchors() (rootsPEM, cvKeysJSON []byte) { return TestHierarchy{}.TestAnchors() }

// TestHierarchy is the simulator's test hierarchy without a card, for
// judging what a simulated card made (QR codes, signatures) with no card
// at hand (a mynakit.TestAnchorProvider).
type TestHierarchy struct{}

// TestAnchors returns the hierarchy's roots and CV CA keys.
func (TestHierarchy) TestAnchors() (rootsPEM, cvKeysJSON []byte) {
	roots, _ := fs.ReadFile(TestData(), "trust/sim-roots.pem")
	cv, _ := fs.ReadFile(TestData(), "trust/sim-cv-ca-keys.json")
	return roots, cv
}

// KeyState reports a key's tries left and maximum.
func (c *Card) KeyState(a myna.Applet, fid uint16) (remaining, max int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ap := c.byAID[string(a.AID())]
	if ap == nil {
		return 0, 0, false
	}
	k := ap.keys[fid]
	if k == nil {
		return 0, 0, false
	}
	return k.remaining, k.max, true
}

// Snapshot returns the card's current state as an image: counters and
// changed secrets included.
func (c *Card) Snapshot() *Image {
	c.mu.Lock()
	defer c.mu.Unlock()
	img := &Image{Format: ImageFormat, ATR: append(HexBytes(nil), c.atr...), Applets: map[string]*Applet{}}
	if len(c.getData) > 0 {
		img.GetData = map[string]HexBytes{}
		for t, v := range c.getData {
			img.GetData[FIDString(t)] = append(HexBytes(nil), v...)
		}
	}
	for _, ap := range c.applets {
		out := &Applet{Files: map[string]*File{}, PrivateKeys: ap.src.PrivateKeys}
		for fid, f := range ap.files {
			nf := &File{Access: AccessString(f.access)}
			if f.records != nil {
				for _, r := range f.records {
					nf.Records = append(nf.Records, append(HexBytes(nil), r...))
				}
			} else {
				nf.Data = append(HexBytes(nil), f.data...)
			}
			out.Files[FIDString(fid)] = nf
		}
		if len(ap.keys) > 0 {
			out.Keys = map[string]*Key{}
		}
		for fid, k := range ap.keys {
			nk := &Key{Remaining: k.remaining, Max: k.max}
			if k.hasValue {
				v := Secret(k.value)
				nk.Value = &v
			}
			out.Keys[FIDString(fid)] = nk
		}
		img.Applets[ap.aidHex] = out
	}
	return img
}

// Transmit processes one command APDU and returns the response APDU.
func (c *Card) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if !c.present {
		c.mu.Unlock()
		return nil, fmt.Errorf("simulator: %w", apdu.ErrCardRemoved)
	}
	n := c.apdus.Add(1)
	if c.cfg.resetAt[n] {
		c.resetPending = true
		c.resetLocked()
	}
	if c.resetPending {
		c.mu.Unlock()
		return nil, fmt.Errorf("simulator: %w", apdu.ErrCardReset)
	}
	removing := c.cfg.removeAfter > 0 && n > c.cfg.removeAfter
	if removing {
		// The link drops during this command. A VERIFY may still have
		// been counted by the card.
		if c.cfg.countInterrupted {
			if parsed, err := apdu.ParseCommand(cmd); err == nil && parsed.INS == 0x20 && len(parsed.Data) > 0 {
				c.process(parsed)
			}
		}
		c.present = false
		c.resetLocked()
		c.mu.Unlock()
		return nil, fmt.Errorf("simulator: removed after %d APDUs: %w", c.cfg.removeAfter, apdu.ErrCardRemoved)
	}
	resp := c.respond(cmd)
	if c.cfg.corruptEvery > 0 && n%c.cfg.corruptEvery == 0 && len(resp) > 2 {
		resp[0] ^= 0x01
	}
	if c.cfg.flipAt > 0 && n == c.cfg.flipAt && len(resp) > 0 {
		resp[0] ^= 0x01
	}
	delay := c.cfg.perAPDU + time.Duration(len(resp))*c.cfg.perByte
	if c.cfg.link != nil || c.cfg.meter != nil {
		ins := byte(0)
		if len(cmd) > 1 {
			ins = cmd[1]
		}
		if c.cfg.link != nil {
			delay += c.cfg.link.Cost(len(cmd), len(resp), ins)
		}
		if m := c.cfg.meter; m != nil {
			m.add(m.link.Cost(len(cmd), len(resp), ins))
		}
	}
	c.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return resp, nil
}

// respond parses and answers one command, applying the fault hooks.
func (c *Card) respond(raw []byte) []byte {
	cmd, err := apdu.ParseCommand(raw)
	if err != nil || c.cfg.shortOnly && cmd.IsExtended() {
		return sw(0x6700)
	}
	if c.cfg.fault != nil {
		if s, ok := c.cfg.fault(cmd); ok {
			return sw(s)
		}
	}
	if c.cfg.chaining && cmd.INS == 0xC0 && cmd.CLA&0x80 == 0 {
		return c.getResponse(cmd)
	}
	r := c.process(cmd)
	if c.cfg.chaining && len(r.Data) > 16 && r.SW == 0x9000 {
		c.pending = append([]byte(nil), r.Data[16:]...)
		return apdu.Response{Data: r.Data[:16], SW: 0x6100 | uint16(min(len(c.pending), 256)&0xFF)}.Bytes()
	}
	return r.Bytes()
}

func (c *Card) getResponse(cmd apdu.Command) []byte {
	if len(c.pending) == 0 {
		return sw(0x6985)
	}
	n := min(cmd.Le, len(c.pending))
	if cmd.Le == 0 {
		n = min(256, len(c.pending))
	}
	out := c.pending[:n]
	c.pending = c.pending[n:]
	if len(c.pending) > 0 {
		return apdu.Response{Data: out, SW: 0x6100 | uint16(min(len(c.pending), 256)&0xFF)}.Bytes()
	}
	c.pending = nil
	return apdu.Response{Data: out, SW: 0x9000}.Bytes()
}

func sw(s uint16) []byte { return []byte{byte(s >> 8), byte(s)} }
