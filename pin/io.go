package pin

import (
	"context"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// The card's commands, through the session: each selects what it needs,
// verifies whatever opens the file or key (asking for the secret if the
// session holds none), and runs under the session's lock, so the session's
// picture of the card's state stays true.

// ReadObject reads the BER-TLV object at the start of EF fid of applet a,
// by its short EF identifier (no SELECT): in one command when the card
// reference fixes the object's size, else the header and then exactly the
// rest (docs/card.md §2.7, §4.3).
func (s *Session) ReadObject(ctx context.Context, a myna.Applet, fid uint16) ([]byte, error) {
	return s.onEF(ctx, a, fid, func() ([]byte, error) { return s.card.ReadObjectSFI(ctx, fid, myna.ObjectSize(a, fid)) })
}

// ReadPhysical reads all of EF fid of applet a, filler included, up to
// limit bytes (for digests over a whole file, docs/card.md §5.6).
func (s *Session) ReadPhysical(ctx context.Context, a myna.Applet, fid uint16, limit int) ([]byte, error) {
	return s.onEF(ctx, a, fid, func() ([]byte, error) { return s.card.ReadPhysicalSFI(ctx, fid, limit) })
}

// ReadBinary reads n bytes of EF fid of applet a from offset (0-255), by
// its short EF identifier.
func (s *Session) ReadBinary(ctx context.Context, a myna.Applet, fid uint16, offset, n int) ([]byte, error) {
	return s.onEF(ctx, a, fid, func() ([]byte, error) {
		b, err := s.card.ReadBinarySFI(ctx, fid, offset, n)
		if err != nil {
			return nil, fmt.Errorf("read EF %04X: %w", fid, err)
		}
		return b, nil
	})
}

// ReadRest completes an object whose first bytes, head, were just read from
// EF fid of applet a (by ReadBinary): it reads exactly the rest the header
// announces.
func (s *Session) ReadRest(ctx context.Context, a myna.Applet, fid uint16, head []byte) ([]byte, error) {
	return s.onEF(ctx, a, fid, func() ([]byte, error) { return s.card.ReadRest(ctx, fid, head) })
}

// ReadRecord reads record rec (1-based) of record EF fid of applet a, by
// its short EF identifier.
func (s *Session) ReadRecord(ctx context.Context, a myna.Applet, fid uint16, rec int) ([]byte, error) {
	return s.onEF(ctx, a, fid, func() ([]byte, error) { return s.card.ReadRecord(ctx, byte(fid&0x1F), rec) })
}

// onEF runs read under the session's lock with EF fid of applet a open
// (selected, and verified when it needs a secret). A failed read is named
// by the applet and checked for what it says about the card's state.
func (s *Session) onEF(ctx context.Context, a myna.Applet, fid uint16, read func() ([]byte, error)) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.openLocked(ctx, a, fid); err != nil {
		return nil, err
	}
	b, err := read()
	if err != nil {
		return nil, s.check(fmt.Errorf("%s: %w", a.JapaneseName(), err))
	}
	return b, nil
}

// GetData reads an MF-level data object (00 CA), returning the card to its
// power-on state first (docs/card.md §2.6).
func (s *Session) GetData(ctx context.Context, tag uint16) ([]byte, error) {
	return s.inMF(ctx, func() ([]byte, error) { return s.card.GetData(ctx, tag) })
}

// GetLargeData is GetData for an object known to be large (an extended Le
// first, docs/card.md §2.6).
func (s *Session) GetLargeData(ctx context.Context, tag uint16) ([]byte, error) {
	return s.inMF(ctx, func() ([]byte, error) { return s.card.GetLargeData(ctx, tag) })
}

// inMF runs get under the session's lock with the card in its power-on
// state, selecting the MF only when an applet is selected or a
// verification holds.
func (s *Session) inMF(ctx context.Context, get func() ([]byte, error)) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != 0 || len(s.verified) > 0 {
		if err := s.selectMFLocked(ctx); err != nil {
			return nil, err
		}
	}
	b, err := get()
	return b, s.check(err)
}

// EnterMF selects the power-on state explicitly (for a run of GetData).
func (s *Session) EnterMF(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selectMFLocked(ctx)
}

// Challenge asks applet a for n random bytes (GET CHALLENGE).
func (s *Session) Challenge(ctx context.Context, a myna.Applet, n int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.selectLocked(ctx, a); err != nil {
		return nil, err
	}
	b, err := s.card.GetChallenge(ctx, n)
	return b, s.check(err)
}

// DefaultKey names an applet's default signing key in Sign (P2 00: the
// card-surface applets' card key, which signs without a credential; card
// reference §4.3).
const DefaultKey uint16 = 0

// Sign has key EF keyFID of applet a sign input with COMPUTE DIGITAL
// SIGNATURE scheme 00 (the card pads input, normally a DigestInfo, with
// PKCS#1 v1.5; docs/card.md §4.3, §5.1). A key that needs a PIN (the JPKI
// keys) is opened first. keyFID DefaultKey uses the applet's default key.
func (s *Session) Sign(ctx context.Context, a myna.Applet, keyFID uint16, input []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p2 := byte(0x00)
	if keyFID != DefaultKey {
		if err := s.openLocked(ctx, a, keyFID); err != nil {
			return nil, err
		}
		p2 = apdu.KeySFI(keyFID)
	} else if err := s.selectLocked(ctx, a); err != nil {
		return nil, err
	}
	sig, err := s.card.ComputeSignature(ctx, 0x00, p2, input)
	return sig, s.check(err)
}
