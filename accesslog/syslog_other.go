//go:build windows || plan9

package accesslog

import "errors"

// SyslogSink is not available on this system.
func SyslogSink(network, addr string) (Sink, error) {
	return nil, errors.New("syslog is not available on this system")
}
