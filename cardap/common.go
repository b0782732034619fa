package cardap

import (
	"context"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// Common is the 共通AP card-information record (card reference §6.5). No
// J-LIS signature covers it.
type Common struct {
	Serial           string `json:"serial"`
	MunicipalityCode string `json:"municipality_code"`
	ExpiryDate       string `json:"expiry_date"`
	Raw              []byte `json:"-"` // record 1 as returned
}

// ReadCommon reads record 1 of EF 0001 (SFI 1), which needs no credential.
func ReadCommon(ctx context.Context, sess *pin.Session) (*Common, error) {
	if err := sess.Open(ctx, myna.Common, myna.CommonInfo); err != nil {
		return nil, err
	}
	rec, err := sess.Card().ReadRecord(ctx, byte(myna.CommonInfo), 1)
	if err != nil {
		return nil, fmt.Errorf("共通AP: %w", err)
	}
	return ParseCommon(rec)
}

// ParseCommon decodes `01 1C` ‖ 15-digit serial ‖ 5-digit municipality
// code ‖ YYYYMMDD expiry.
func ParseCommon(rec []byte) (*Common, error) {
	obj, _, err := apdu.ParseSimpleTLV(rec)
	if err != nil {
		return nil, fmt.Errorf("共通AP record: %w", err)
	}
	if obj.Tag != 0x01 || !myna.Digits(string(obj.Value), 28) {
		return nil, fmt.Errorf("共通AP record: want tag 01 with 28 digits: %w", apdu.ErrMalformed)
	}
	exp, err := isoDate(obj.Value[20:28])
	if err != nil {
		return nil, fmt.Errorf("共通AP record expiry: %w", err)
	}
	return &Common{Serial: string(obj.Value[:15]), MunicipalityCode: string(obj.Value[15:20]), ExpiryDate: exp, Raw: rec}, nil
}
