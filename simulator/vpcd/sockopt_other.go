//go:build !linux

package vpcd

import "net"

func tuneConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
}

func quickAck(net.Conn) {}
