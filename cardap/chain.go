package cardap

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// CardChain is the MF-level chain of card-verifiable certificates (card
// reference §2.6, §5.5): GET DATA 00F8 (root → intermediate, signed by the
// J-LIS chain root) and, on newer cards, 7F21 (intermediate → lower key,
// signed by the intermediate).
type CardChain struct {
	Intermediate *CVCertificate // 00F8
	Lower        *CVCertificate // 7F21; nil on older cards
	// IntermediateID is GET DATA 00F7, the intermediate's key ID as the card
	// states it (optional).
	IntermediateID []byte
}

// ReadCardChain reads the chain in the card's power-on state.
func ReadCardChain(ctx context.Context, sess *pin.Session) (*CardChain, error) {
	if err := sess.SelectMF(ctx); err != nil {
		return nil, err
	}
	card := sess.Card()
	raw, err := card.GetData(ctx, 0x00F8)
	if err != nil {
		return nil, fmt.Errorf("card CV chain: %w", err)
	}
	ch := &CardChain{}
	if ch.Intermediate, err = ParseCVCertificate(raw); err != nil {
		return nil, fmt.Errorf("card CV chain 00F8: %w", err)
	}
	if id, err := card.GetData(ctx, 0x00F7); err == nil {
		ch.IntermediateID = id
	}
	switch lower, err := card.GetData(ctx, 0x7F21); {
	case err == nil:
		if ch.Lower, err = ParseCVCertificate(lower); err != nil {
			return nil, fmt.Errorf("card CV chain 7F21: %w", err)
		}
	case errors.Is(err, apdu.ErrDataNotFound):
		// Absent on older cards.
	default:
		return nil, fmt.Errorf("card CV chain 7F21: %w", err)
	}
	return ch, nil
}

// Verify checks 00F8 under the J-LIS chain root its issuer key ID names and
// 7F21 under the key 00F8 certifies.
func (c *CardChain) Verify(store *trust.Store) []trust.Check {
	first := c.Intermediate.Verify(store, trust.RoleCardChain, trust.CheckChainRoot)
	checks := []trust.Check{first}
	if len(c.IntermediateID) == 16 && !bytes.Equal(c.IntermediateID, c.Intermediate.SubjectKeyID[:]) {
		checks = append(checks, trust.Check{Name: trust.CheckChainID, Result: trust.Fail, Anchor: first.Anchor, Production: first.Production, Detail: "GET DATA 00F7 names another intermediate than 00F8 certifies"})
	}
	if c.Lower != nil {
		ch := trust.Check{Name: trust.CheckChainLower}
		if c.Lower.IssuerKeyID != c.Intermediate.SubjectKeyID {
			ch.Result, ch.Detail = trust.Fail, "7F21 is not issued by the intermediate 00F8 certifies"
		} else {
			ch = recordCheck(ch.Name, c.Intermediate, first, c.Lower.Body, c.Lower.Signature, "7F21 certificate")
		}
		checks = append(checks, ch)
	}
	return checks
}
