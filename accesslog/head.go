package accesslog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Head is the log's last durable entry: its number and hash. It is kept
// in access.head beside the log, rewritten in place and fsync'd after the
// entries it covers, and sent to the sinks, so that entries cut from the
// end of the log (or a log emptied) show: the log is then shorter than
// its head. Someone who can write the folder can also rewrite the head;
// a sink (syslog, journald) keeps it where they cannot.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// headSize is the fixed length of the head file: each write replaces
// every byte of it at offset 0 (one sector: no torn head).
const headSize = 128

func readHead(dir string) (Head, error) {
	path := filepath.Join(dir, HeadFileName)
	if err := refuseLink(path); err != nil {
		return Head{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Head{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, headSize+1))
	if err != nil {
		return Head{}, fmt.Errorf("%s: %w", path, err)
	}
	var h Head
	dec := json.NewDecoder(strings.NewReader(strings.TrimSpace(string(b))))
	dec.DisallowUnknownFields()
	if len(b) > headSize || dec.Decode(&h) != nil || h.Seq < 0 || (h.Seq > 0 && !validHash(h.Hash)) {
		return Head{}, fmt.Errorf("%s: %w", path, errBadHead)
	}
	return h, nil
}

var errBadHead = errors.New("the head file is damaged: entries missing at the end cannot be ruled out")

// writeHead replaces the head in f and syncs it.
func writeHead(f *os.File, h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	if len(b) >= headSize {
		return fmt.Errorf("access log head: %d bytes", len(b))
	}
	buf := []byte(strings.Repeat(" ", headSize-1) + "\n")
	copy(buf, b)
	if _, err := f.WriteAt(buf, 0); err != nil {
		return fmt.Errorf("access log head: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("access log head: fsync: %w", err)
	}
	return nil
}

// sendHead hands the head to the sinks, as a line of its own
// ({"head":{"seq":N,"hash":"…"}}), so the collector knows how far the log
// went even if the file is cut later.
func (l *Log) sendHead(h Head) {
	if len(l.opts.Sinks) == 0 || h.Seq == 0 {
		return
	}
	b, err := json.Marshal(struct {
		Head Head `json:"head"`
	}{h})
	if err == nil {
		l.send(b)
	}
}
