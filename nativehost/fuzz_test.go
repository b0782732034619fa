package nativehost

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzServe feeds arbitrary bytes to the host as if from a browser: it
// must answer in well-formed frames and end, never panic or hang. No card
// is reachable, so nothing real is signed.
func FuzzServe(f *testing.F) {
	add := func(s string) {
		f.Add(append(binary.LittleEndian.AppendUint32(nil, uint32(len(s))), s...))
	}
	add(`{"command":"authenticate","arguments":{"challengeNonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","origin":"https://a.example"}}`)
	add(`{"command":"sign","arguments":{"origin":"https://a.example","hash":"AA==","hashFunction":"SHA-1","certificate":""}}`)
	add(`{"command":"quit","arguments":{}}`)
	add(`[]`)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 0, 0})
	noCard := errors.New("no card")
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		opts := Options{Version: "fuzz", DigestOrigins: []string{"https://a.example"}, Open: func(context.Context) (Card, error) { return nil, noCard }}
		_ = Serve(context.Background(), bytes.NewReader(in), &out, opts)
		for r := bytes.NewReader(out.Bytes()); r.Len() > 0; {
			if _, err := ReadMessage(r); err != nil {
				t.Fatalf("the host wrote a malformed frame: %v", err)
			}
		}
	})
}
