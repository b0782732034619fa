//go:build !cgo && !windows

package pcsc

import (
	"context"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
)

// Context is unavailable without cgo.
type Context struct{}

// Transport is unavailable without cgo.
type Transport struct{}

var errNoCgo = fmt.Errorf("%w (built without cgo)", apdu.ErrUnavailable)

// Establish reports that PC/SC is not available in this build.
func Establish() (*Context, error) { return nil, errNoCgo }

// Available reports whether this build can talk to PC/SC at all.
func Available() bool { return false }

func (c *Context) Close() error                                    { return errNoCgo }
func (c *Context) Readers() ([]ReaderInfo, error)                  { return nil, errNoCgo }
func (c *Context) WaitForCard(ctx context.Context, r string) error { return errNoCgo }
func (c *Context) WaitForRemoval(context.Context, string) error    { return errNoCgo }
func (c *Context) Connect(context.Context, string, ShareMode) (*Transport, error) {
	return nil, errNoCgo
}
func (t *Transport) Transmit(context.Context, []byte) ([]byte, error) { return nil, errNoCgo }
func (t *Transport) Close() error                                     { return errNoCgo }
func (t *Transport) ATR() []byte                                      { return nil }
func (t *Transport) Reader() string                                   { return "" }
func (t *Transport) Begin(context.Context) error                      { return errNoCgo }
func (t *Transport) End() error                                       { return errNoCgo }
func (t *Transport) Reset(context.Context) error                      { return errNoCgo }
func (t *Transport) Reconnect(context.Context) error                  { return errNoCgo }
func (t *Transport) Busy() bool                                       { return false }
func (t *Transport) MaxAPDU() int                                     { return 0 }
