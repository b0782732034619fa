package bridge_test

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"time"
)

// readSSE calls fn for each event of a text/event-stream.
func readSSE(r io.Reader, fn func(name string, data []byte)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	name, data := "message", []byte(nil)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if data != nil {
				fn(name, data)
			}
			name, data = "message", nil
		case bytes.HasPrefix(line, []byte("event: ")):
			name = string(line[7:])
		case bytes.HasPrefix(line, []byte("data: ")):
			data = append(data, line[6:]...)
		}
	}
}

func timer(t testing.TB) <-chan time.Time {
	t.Helper()
	return time.After(30 * time.Second)
}
