// Package loopback is the one rule for "this address stays on this
// machine", shared by the bridge, the simulator behind vpcd and the
// simulated clinic terminal: a loopback IP (127.0.0.0/8, ::1) or the name
// "localhost". Anything else, including a name that might resolve to a
// loopback address, is not loopback.
package loopback

import (
	"fmt"
	"net"
	"strings"
)

// Host reports whether host (a name or an IP, IPv6 with or without
// brackets) is loopback.
func Host(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr checks a host:port listen address and returns its host and port;
// the error says why an address that is not loopback was refused.
func Addr(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		return "", "", err
	}
	if !Host(host) {
		return host, port, fmt.Errorf("%s is not a loopback address (127.0.0.1, ::1 or localhost)", host)
	}
	return host, port, nil
}
