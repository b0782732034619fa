package accesslog

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// Sink mirrors entries to the system's log collector, where many counters'
// records can be gathered without a server of mynakit's own. A sink gets
// each entry's line as it is written to the file (concurrent entries may
// arrive out of order; each carries its seq); a failing sink never loses
// an entry from the file.
type Sink interface {
	Send(line []byte) error
	Close() error
}

// ParseSink opens the sink named name: "syslog" (the local syslog
// daemon) or "journald" (systemd's journal, native protocol).
func ParseSink(name string) (Sink, error) {
	switch name {
	case "syslog":
		return SyslogSink("", "")
	case "journald":
		return JournaldSink("")
	}
	return nil, fmt.Errorf("unknown log sink %q (want syslog or journald)", name)
}

// DefaultJournalSocket is where systemd-journald takes native messages.
const DefaultJournalSocket = "/run/systemd/journal/socket"

// journald sends each entry as one datagram in the journal's native
// format (KEY=value lines): MESSAGE is the entry's line, and the fields
// the collector filters on are given on their own.
type journald struct {
	mu   sync.Mutex
	conn net.Conn
}

// JournaldSink sends entries to the journal's socket (empty: the default
// one).
func JournaldSink(socket string) (Sink, error) {
	if socket == "" {
		socket = DefaultJournalSocket
	}
	c, err := net.Dial("unixgram", socket)
	if err != nil {
		return nil, fmt.Errorf("journald: %w", err)
	}
	return &journald{conn: c}, nil
}

func (j *journald) Send(line []byte) error {
	var b bytes.Buffer
	field := func(k string, v []byte) {
		b.WriteString(k)
		b.WriteByte('=')
		b.Write(v)
		b.WriteByte('\n')
	}
	field("MESSAGE", line)
	field("PRIORITY", []byte(strconv.Itoa(6))) // informational
	field("SYSLOG_IDENTIFIER", []byte("mynakit"))
	field("MYNAKIT_ACCESS_LOG", []byte("1"))
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err := j.conn.Write(b.Bytes())
	if err != nil {
		return fmt.Errorf("journald: %w", err)
	}
	return nil
}

func (j *journald) Close() error { return j.conn.Close() }
