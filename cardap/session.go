package cardap

import (
	"context"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// Session is what this package asks of a card: the reads, GET DATA and
// GET CHALLENGE of the card-surface applets and the MF, the presence
// proof's signature, and which secrets were entered (a My Number is read
// only after one). *pin.Session is the Session every caller passes; a test
// or another transport can stand in for it.
type Session interface {
	Open(ctx context.Context, a myna.Applet, fid uint16) error
	EnterMF(ctx context.Context) error
	ReadObject(ctx context.Context, a myna.Applet, fid uint16) ([]byte, error)
	ReadPhysical(ctx context.Context, a myna.Applet, fid uint16, limit int) ([]byte, error)
	ReadBinary(ctx context.Context, a myna.Applet, fid uint16, offset, n int) ([]byte, error)
	ReadRest(ctx context.Context, a myna.Applet, fid uint16, head []byte) ([]byte, error)
	ReadRecord(ctx context.Context, a myna.Applet, fid uint16, rec int) ([]byte, error)
	GetData(ctx context.Context, tag uint16) ([]byte, error)
	GetLargeData(ctx context.Context, tag uint16) ([]byte, error)
	Challenge(ctx context.Context, a myna.Applet, n int) ([]byte, error)
	Sign(ctx context.Context, a myna.Applet, keyFID uint16, input []byte) ([]byte, error)
	Holds(kind myna.Secret) bool
	Verified(a myna.Applet) []myna.KeyName
}

var _ Session = (*pin.Session)(nil)
