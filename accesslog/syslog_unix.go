//go:build !windows && !plan9

package accesslog

import (
	"fmt"
	"log/syslog"
)

type syslogSink struct{ w *syslog.Writer }

// SyslogSink sends entries to syslog (facility auth, level info, tag
// mynakit): to the local daemon when network is empty, else to addr over
// network ("unixgram", "udp", ...).
func SyslogSink(network, addr string) (Sink, error) {
	w, err := syslog.Dial(network, addr, syslog.LOG_AUTH|syslog.LOG_INFO, "mynakit")
	if err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return syslogSink{w}, nil
}

func (s syslogSink) Send(line []byte) error { return s.w.Info(string(line)) }
func (s syslogSink) Close() error           { return s.w.Close() }
