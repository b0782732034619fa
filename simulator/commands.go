package simulator

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

func status(s uint16) apdu.Response         { return apdu.Response{SW: s} }
func ok(data []byte) apdu.Response          { return apdu.Response{Data: data, SW: 0x9000} }
func triesLeft(n int) apdu.Response         { return status(0x63C0 | uint16(n&0x0F)) }
func isKeyEF(ap *applet, fid uint16) bool   { return ap.keys[fid] != nil || ap.priv[fid] != nil }
func (c *Card) opened(access []uint16) bool { return len(access) == 0 || c.anyVerified(access) }
func (c *Card) anyVerified(keys []uint16) bool {
	for _, k := range keys {
		if c.verified[k] {
			return true
		}
	}
	return false
}

// process answers one parsed command (docs/card.md §4, §7.4, §9).
func (c *Card) process(cmd apdu.Command) apdu.Response {
	cla := cmd.CLA
	if cla&0x03 != 0 {
		return status(0x6881) // logical channels are not supported
	}
	if cla&0x0C != 0 {
		if cmd.INS == 0xA4 {
			return status(0x6882)
		}
		return status(0x69FC) // no secure-messaging session
	}
	switch cla &^ 0x0F {
	case 0x00:
		switch cmd.INS {
		case 0xA4:
			return c.selectFile(cmd)
		case 0xB0:
			return c.readBinary(cmd)
		case 0xB2:
			return c.readRecord(cmd)
		case 0xCA:
			return c.getDataCmd(cmd)
		case 0x20:
			return c.verify(cmd)
		case 0x24:
			return c.change(cmd)
		case 0x84:
			return c.getChallenge(cmd)
		case 0x88:
			return c.internalAuthenticate(cmd)
		case 0xC0:
			return status(0x6985) // nothing to get
		}
	case 0x80:
		switch cmd.INS {
		case 0x2A:
			return c.computeSignature(cmd)
		case 0x32:
			return c.change(cmd)
		case 0xAE:
			return c.setSessionKey()
		case 0xA2:
			return status(0x6A86)
		case 0xFC:
			return status(0x6700)
		}
	default:
		return status(0x6E00)
	}
	return status(0x6D00)
}

func (c *Card) selectFile(cmd apdu.Command) apdu.Response {
	switch cmd.P1 {
	case 0x04: // by DF name
		if len(cmd.Data) == 0 {
			return status(0x6700)
		}
		if bytes.Equal(cmd.Data, myna.ISDAID()) {
			c.resetLocked()
			return ok(nil)
		}
		ap := c.byAID[string(cmd.Data)]
		if ap == nil {
			return status(0x6A82)
		}
		c.current, c.curEF, c.pending = ap, 0, nil
		c.verified = map[uint16]bool{}
		return ok(nil)
	case 0x02: // EF in the current DF
		if len(cmd.Data) != 2 {
			return status(0x6700)
		}
		fid := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
		if c.current == nil {
			return status(0x6A82)
		}
		if c.current.files[fid] == nil && !isKeyEF(c.current, fid) {
			return status(0x6A82)
		}
		c.curEF = fid
		return ok(nil)
	case 0x00:
		if len(cmd.Data) > 0 {
			return status(0x6A82) // 3F00 is not selectable by identifier
		}
		if c.current == nil {
			return status(0x6A86)
		}
		return ok(nil) // accepted, but the current DF does not change
	}
	return status(0x6A86)
}

// efFor resolves the file a READ names: by SFI in P1, or the current EF.
func (c *Card) efFor(p1 byte) (uint16, *file, apdu.Response, bool) {
	if c.current == nil {
		return 0, nil, status(0x6986), false
	}
	fid := c.curEF
	if p1&0x80 != 0 {
		fid = uint16(p1 & 0x1F)
		if c.current.files[fid] == nil && !isKeyEF(c.current, fid) {
			return 0, nil, status(0x6A82), false
		}
		c.curEF = fid
	}
	if fid == 0 {
		return 0, nil, status(0x6986), false
	}
	f := c.current.files[fid]
	if isKeyEF(c.current, fid) || f == nil {
		return fid, nil, status(0x6981), false
	}
	return fid, f, apdu.Response{}, true
}

func (c *Card) readBinary(cmd apdu.Command) apdu.Response {
	_, f, errResp, good := c.efFor(cmd.P1)
	if !good {
		return errResp
	}
	if f.records != nil {
		return status(0x6981)
	}
	if !c.opened(f.access) {
		return status(0x6982)
	}
	offset := int(cmd.P1&0x7F)<<8 | int(cmd.P2)
	if cmd.P1&0x80 != 0 {
		offset = int(cmd.P2)
	}
	if cmd.Le == 0 || len(cmd.Data) > 0 {
		return status(0x6700)
	}
	if offset >= len(f.data) {
		return status(0x6B00)
	}
	end := min(offset+cmd.Le, len(f.data))
	if c.cfg.chaining && !cmd.IsExtended() && cmd.Le < 256 && offset+cmd.Le > len(f.data) {
		return status(0x6C00 | uint16(len(f.data)-offset)&0xFF)
	}
	return ok(append([]byte(nil), f.data[offset:end]...))
}

func (c *Card) readRecord(cmd apdu.Command) apdu.Response {
	if c.current == nil {
		return status(0x6986)
	}
	var fid uint16
	switch {
	case cmd.P2&0x07 == 0x04 && cmd.P2>>3 == 0:
		fid = c.curEF
	case cmd.P2&0x07 == 0x04:
		fid = uint16(cmd.P2 >> 3)
	case cmd.P2&0x07 == 0x05:
		return status(0x6A81) // reading several records at once is not supported
	default:
		return status(0x6A86)
	}
	if fid == 0 {
		return status(0x6986)
	}
	f := c.current.files[fid]
	if f == nil && !isKeyEF(c.current, fid) {
		return status(0x6A82)
	}
	if f == nil || f.records == nil {
		return status(0x6981)
	}
	c.curEF = fid
	if !c.opened(f.access) {
		return status(0x6982)
	}
	if cmd.P1 == 0 {
		return status(0x6A86)
	}
	if int(cmd.P1) > len(f.records) {
		return status(0x6A83)
	}
	return ok(append([]byte(nil), f.records[cmd.P1-1]...))
}

func (c *Card) getDataCmd(cmd apdu.Command) apdu.Response {
	tag := uint16(cmd.P1)<<8 | uint16(cmd.P2)
	if c.current != nil && tag != 0x5F51 {
		return status(0x6A88) // MF-level objects answer only in the power-on state
	}
	v, found := c.getData[tag]
	if !found {
		return status(0x6A88)
	}
	if len(v) > 256 && !cmd.IsExtended() {
		return status(0x6700) // the card does not say the right length
	}
	return ok(append([]byte(nil), v...))
}

// keyRef resolves P2 of VERIFY/CHANGE/80 2A: 80 = current EF, 80|SFI.
func (c *Card) keyRef(p2 byte) (uint16, bool) {
	if p2 == 0x80 {
		return c.curEF, c.curEF != 0
	}
	if p2&0x80 != 0 && p2&0x60 == 0 {
		return uint16(p2 & 0x1F), true
	}
	return 0, false
}

func (c *Card) verify(cmd apdu.Command) apdu.Response {
	if cmd.P1 != 0x00 {
		return status(0x6A86)
	}
	if c.current == nil {
		return status(0x6986)
	}
	fid, good := c.keyRef(cmd.P2)
	if !good {
		if cmd.P2 == 0x80 {
			return status(0x6986)
		}
		return status(0x6A86)
	}
	k := c.current.keys[fid]
	if k == nil {
		return status(0x6A88)
	}
	if cmd.P2&0x1F != 0 {
		c.curEF = fid
	}
	if len(cmd.Data) == 0 {
		if cmd.Le != 0 {
			return status(0x6700) // the tries query is a strict case-1 command
		}
		if k.remaining == 0 {
			return triesLeft(0)
		}
		if c.verified[fid] && c.cfg.verifiedQuery9000 {
			return ok(nil)
		}
		return triesLeft(k.remaining)
	}
	if k.remaining == 0 {
		return status(0x6984)
	}
	if k.hasValue && bytes.Equal(cmd.Data, k.value) {
		k.remaining = k.max
		c.verified[fid] = true
		return ok(nil)
	}
	k.remaining--
	delete(c.verified, fid)
	return triesLeft(k.remaining)
}

// change is CHANGE REFERENCE DATA (00 24 01 80) and CHANGE KEY (80 32 00 80):
// only after the same key was verified in this session (docs/card.md §3.4).
func (c *Card) change(cmd apdu.Command) apdu.Response {
	if c.current == nil {
		return status(0x6986)
	}
	if cmd.INS == 0x24 && cmd.P1 != 0x01 || cmd.INS == 0x32 && cmd.P1 != 0x00 {
		return status(0x6A86)
	}
	fid, good := c.keyRef(cmd.P2)
	if !good {
		return status(0x6A86)
	}
	k := c.current.keys[fid]
	if k == nil {
		return status(0x6A88)
	}
	if len(cmd.Data) == 0 || len(cmd.Data) > 16 {
		return status(0x6700)
	}
	if !c.verified[fid] {
		return status(0x6982)
	}
	k.value, k.hasValue, k.remaining = append([]byte(nil), cmd.Data...), true, k.max
	return ok(nil)
}

func (c *Card) getChallenge(cmd apdu.Command) apdu.Response {
	if cmd.IsExtended() {
		return status(0x6985)
	}
	if cmd.Le == 0 || len(cmd.Data) > 0 {
		return status(0x6700)
	}
	if c.current != nil && c.current.src.Replay != nil {
		// A clone: the one challenge it recorded, whatever was asked.
		return ok(append([]byte(nil), c.current.src.Replay.Challenge...))
	}
	b := make([]byte, cmd.Le)
	if _, err := c.rng.Read(b); err != nil {
		return status(0x6F00)
	}
	return ok(b)
}

// signingKey finds the private key a signature command names, and whether
// its access condition is met.
func (c *Card) signingKey(fid uint16) (*rsa.PrivateKey, apdu.Response, bool) {
	ap := c.current
	key := ap.priv[fid]
	if key == nil {
		if ap.keys[fid] != nil || ap.files[fid] != nil {
			return nil, status(0x6982), false // a key EF this image cannot use (dumped card)
		}
		return nil, status(0x6A88), false
	}
	var access []uint16
	if f := ap.files[fid]; f != nil {
		access = f.access
	} else if ap.kind != 0 {
		access, _ = myna.Openers(ap.kind, fid)
	}
	if !c.opened(access) {
		return nil, status(0x6982), false
	}
	return key, apdu.Response{}, true
}

// defaultKeys are the keys P2 00 names in the card-surface applets.
var defaultKeys = map[myna.Applet]uint16{myna.Text: myna.TextCardKey, myna.Surface: myna.SurfaceCardKey}

func (c *Card) computeSignature(cmd apdu.Command) apdu.Response {
	if c.current == nil {
		return status(0x6986)
	}
	if cmd.P1 > 0x05 {
		return status(0x6A86)
	}
	var fid uint16
	if cmd.P2 == 0x00 && c.current.src.Replay != nil {
		// A clone: the one signature it recorded, whatever it is sent.
		return ok(append([]byte(nil), c.current.src.Replay.Signature...))
	}
	if cmd.P2 == 0x00 {
		d, found := defaultKeys[c.current.kind]
		if !found {
			return status(0x6A88)
		}
		fid = d
	} else {
		var good bool
		if fid, good = c.keyRef(cmd.P2); !good {
			return status(0x6A86)
		}
	}
	key, errResp, good := c.signingKey(fid)
	if !good {
		return errResp
	}
	in := cmd.Data
	var sig []byte
	var err error
	switch cmd.P1 {
	case 0x00: // PKCS#1 v1.5 padding of the input as given (normally a DigestInfo)
		if len(in) == 0 || len(in) > key.Size()-11 {
			return status(0x6700)
		}
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.Hash(0), in)
	case 0x01: // SHA-256 on card, bare hash padded (no DigestInfo)
		if len(in) == 0 || len(in) > 255 {
			return status(0x6700)
		}
		h := sha256.Sum256(in)
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.Hash(0), h[:])
	case 0x02:
		if len(in) != 32 {
			return status(0x6700)
		}
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, in)
	case 0x03:
		if len(in) == 0 || len(in) > 255 {
			return status(0x6700)
		}
		h := sha256.Sum256(in)
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	case 0x04:
		if len(in) != 32 {
			return status(0x6700)
		}
		sig, err = rsa.SignPSS(c.rng, key, crypto.SHA256, in, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case 0x05:
		if len(in) == 0 || len(in) > 255 {
			return status(0x6700)
		}
		h := sha256.Sum256(in)
		sig, err = rsa.SignPSS(c.rng, key, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	if err != nil {
		return status(0x6F00)
	}
	return ok(sig)
}

// internalAuthenticate answers only with the 共通AP key 0019 (card
// reference §4.3): sha256WithRSAEncryption over the challenge, no credential.
func (c *Card) internalAuthenticate(cmd apdu.Command) apdu.Response {
	if c.current == nil {
		return status(0x6986)
	}
	fid, good := c.keyRef(cmd.P2)
	if !good || cmd.P1 != 0x00 {
		return status(0x6A86)
	}
	if len(cmd.Data) == 0 || len(cmd.Data) > 255 {
		return status(0x6700)
	}
	if c.current.kind != myna.Common || fid != myna.CommonAuthKey {
		if d, isCardKey := defaultKeys[c.current.kind]; isCardKey && d == fid {
			return status(0x6985)
		}
		return status(0x6982)
	}
	key := c.current.priv[fid]
	if key == nil {
		return status(0x6985)
	}
	h := sha256.Sum256(cmd.Data)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		return status(0x6F00)
	}
	return ok(sig)
}

// setSessionKey answers SET SESSION KEY as each applet does; secure
// messaging itself is not simulated (docs/card.md §5.11).
func (c *Card) setSessionKey() apdu.Response {
	if c.current == nil {
		return status(0x6D00)
	}
	switch c.current.kind {
	case myna.Common, myna.Surface:
		return status(0x66F1)
	case myna.Text:
		if !c.verified[myna.TextPIN] {
			return status(0x6982)
		}
		return status(0x6A80)
	}
	return status(0x6982)
}
