//go:build !linux

package bridge

import (
	"errors"
	"net"
)

const peerCredSupported = false

func peerUID(*net.UnixConn) (int, error) { return -1, errors.New("no peer credentials") }
