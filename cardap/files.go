package cardap

import (
	"context"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// Fault is a file the card answered for badly: it refused it with a status
// word a genuine card does not give for it, or sent bytes that do not parse
// as a TLV object. A genuine card has no faults; each becomes a failed check.
type Fault struct {
	Applet myna.Applet
	FID    uint16
	Err    error
}

func (f Fault) String() string {
	return fmt.Sprintf("%s EF %04X: %v", f.Applet.JapaneseName(), f.FID, f.Err)
}

// readKind says how a file is read.
type readKind int

const (
	readObject   readKind = iota // the TLV object at the start, header first
	readPhysical                 // every byte up to a limit, filler included
)

// fetch opens and reads one file. A refusal or malformed answer becomes a
// Fault (returned with a nil error); only failures to ask the card (and PIN
// refusals while opening) are errors.
func fetch(ctx context.Context, sess Session, a myna.Applet, fid uint16, how readKind, limit int) ([]byte, *Fault, error) {
	if err := sess.Open(ctx, a, fid); err != nil {
		return nil, nil, err
	}
	var b []byte
	var err error
	switch how {
	case readPhysical:
		b, err = sess.ReadPhysical(ctx, a, fid, limit)
	default:
		b, err = sess.ReadObject(ctx, a, fid)
	}
	if err != nil {
		fault, err := asFault(a, fid, err)
		return nil, fault, err
	}
	return b, nil, nil
}

// asFault sorts a failed read: an answer from the card (a refusal, a
// malformed file) is a Fault; a failure to ask it stays an error.
func asFault(a myna.Applet, fid uint16, err error) (*Fault, error) {
	if apdu.Answered(err) {
		return &Fault{Applet: a, FID: fid, Err: err}, nil
	}
	return nil, err
}

// fileRead is one file of an applet to read, and where its bytes go.
type fileRead struct {
	fid   uint16
	dst   *[]byte
	how   readKind
	limit int // bounds a readPhysical
}

// fetchAll reads the files in order. A file the card answered badly leaves
// its dst nil and adds a Fault; the error is fetch's.
func fetchAll(ctx context.Context, sess Session, a myna.Applet, files []fileRead, faults *[]Fault) error {
	for _, f := range files {
		b, fault, err := fetch(ctx, sess, a, f.fid, f.how, f.limit)
		if err != nil {
			return err
		}
		if fault != nil {
			*faults = append(*faults, *fault)
		}
		*f.dst = b
	}
	return nil
}
