//go:build !unix

package activation

import (
	"errors"
	"net"
)

func closeFD(int) {}

// listenerFromFD: socket activation is a Unix protocol.
func listenerFromFD(int) (net.Listener, error) {
	return nil, errors.New("socket activation is not supported on this platform")
}
