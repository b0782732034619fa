package cardap

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/trust"
)

// ChainRaw is the MF-level chain as the card returned it (docs/card.md
// §2.6, §5.5): GET DATA 00F8 (root → intermediate), 00F7 (the
// intermediate's key ID) and, on newer cards, 7F21 (intermediate → lower
// key). Nil members were absent (6A88).
type ChainRaw struct {
	Intermediate   []byte
	IntermediateID []byte
	Lower          []byte
	// Expiry (00F2, YYYYMMDD) and Municipality (00F0) are the MF's
	// unsigned copies of the card expiry and municipality code, read in
	// the same power-on state; a refusal of either is no fault.
	Expiry, Municipality []byte
	Faults               []Fault
}

// ReadCardChain reads the chain, and the MF copies of the expiry and
// municipality, in the card's power-on state. Absent
// objects are left nil; refusals are Faults.
func ReadCardChain(ctx context.Context, sess Session) (*ChainRaw, error) {
	if err := sess.EnterMF(ctx); err != nil {
		return nil, err
	}
	raw := &ChainRaw{}
	for _, o := range []struct {
		tag             uint16
		dst             *[]byte
		large, optional bool
	}{
		{0x00F8, &raw.Intermediate, true, false}, {0x00F7, &raw.IntermediateID, false, false}, {0x7F21, &raw.Lower, true, false},
		{0x00F2, &raw.Expiry, false, true}, {0x00F0, &raw.Municipality, false, true},
	} {
		get := sess.GetData
		if o.large {
			get = sess.GetLargeData
		}
		b, err := get(ctx, o.tag)
		switch {
		case err == nil:
			*o.dst = b
		case errors.Is(err, apdu.ErrDataNotFound):
		case apdu.Answered(err):
			if !o.optional {
				raw.Faults = append(raw.Faults, Fault{FID: o.tag, Err: err})
			}
		default:
			return raw, err
		}
	}
	return raw, nil
}

// VerifyCardChain checks 00F8 under the J-LIS chain root its issuer key ID
// names (card-chain role) and 7F21 under the key 00F8 certifies.
func VerifyCardChain(raw ChainRaw, store *trust.Store) []trust.Check {
	if raw.Intermediate == nil {
		detail := "GET DATA 00F8 is absent"
		if len(raw.Faults) > 0 {
			detail = "GET DATA refused: " + fmt.Sprint(raw.Faults[0].Err)
		}
		return []trust.Check{{Name: trust.CheckChainRoot, Result: trust.Fail, Detail: detail}}
	}
	inter, err := ParseCVCertificate(raw.Intermediate)
	first := cvCheckOf(inter, err, store, trust.RoleCardChain, trust.CheckChainRoot)
	checks := []trust.Check{first}
	if inter == nil {
		return checks
	}
	if raw.IntermediateID != nil && !bytes.Equal(raw.IntermediateID, inter.SubjectKeyID[:]) {
		checks = append(checks, failed(trust.Check{Name: trust.CheckChainID}, first, "GET DATA 00F7 names another intermediate than 00F8 certifies"))
	}
	if raw.Lower != nil {
		ch := trust.Check{Name: trust.CheckChainLower}
		lower, err := ParseCVCertificate(raw.Lower)
		switch {
		case err != nil:
			ch = failed(ch, first, "7F21 is malformed: "+err.Error())
		case lower.IssuerKeyID != inter.SubjectKeyID:
			ch = failed(ch, first, "7F21 is not issued by the intermediate 00F8 certifies")
		default:
			ch = inter.CheckRecord(ch.Name, first, lower.Body, lower.Signature, "7F21 certificate")
		}
		checks = append(checks, ch)
	}
	return checks
}
