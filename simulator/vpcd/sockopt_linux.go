//go:build linux

package vpcd

import (
	"net"
	"syscall"
)

// tuneConn turns off Nagle's algorithm: every message is one small write.
func tuneConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
}

// quickAck re-arms TCP_QUICKACK before each read. Debian's vpcd writes a
// message's length and body separately; without an immediate ACK the body
// waits for the delayed-ACK timer and every APDU costs ~40 ms. Linux clears
// the flag after use, hence before every read.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
