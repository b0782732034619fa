package cardap

import (
	"context"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/tlv"
)

// Common is the 共通AP card-information record (docs/card.md §6.5). No
// J-LIS signature covers any of it.
type Common struct {
	Serial           string
	MunicipalityCode string
	ExpiryDate       myna.Date
	Raw              []byte // record 1 as returned
}

// ReadCommon reads record 1 of EF 0001 (SFI 1), which needs no credential.
// A record the card refuses is a Fault; only a failure to ask is an error.
func ReadCommon(ctx context.Context, sess Session) ([]byte, *Fault, error) {
	rec, err := sess.ReadRecord(ctx, myna.Common, myna.CommonInfo, 1)
	if err != nil {
		fault, err := asFault(myna.Common, myna.CommonInfo, err)
		return nil, fault, err
	}
	return rec, nil, nil
}

// ParseCommon decodes `01 1C` ‖ 15-digit serial ‖ 5-digit municipality
// code ‖ YYYYMMDD expiry.
func ParseCommon(rec []byte) (*Common, error) {
	obj, rest, err := tlv.ParseSimple(rec)
	if err != nil {
		return nil, fmt.Errorf("共通AP record: %w", err)
	}
	if obj.Tag != 0x01 || !myna.Digits(string(obj.Value), 28) || len(rest) != 0 {
		return nil, fmt.Errorf("共通AP record: want tag 01 with 28 digits: %w", apdu.ErrMalformed)
	}
	exp, err := ParseDate(obj.Value[20:28])
	if err != nil {
		return nil, fmt.Errorf("共通AP record expiry %w: %w", err, apdu.ErrMalformed)
	}
	return &Common{Serial: string(obj.Value[:15]), MunicipalityCode: string(obj.Value[15:20]), ExpiryDate: exp, Raw: rec}, nil
}
