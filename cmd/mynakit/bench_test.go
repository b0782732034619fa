package main

import (
	"context"
	"testing"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// BenchmarkReadCard reads and verifies the whole default card in process,
// as `mynakit read` does, and reports the APDUs and bytes one read costs.
func BenchmarkReadCard(b *testing.B) {
	img, err := persona.Build(persona.Default())
	if err != nil {
		b.Fatal(err)
	}
	a := &app{}
	store, err := a.trustStore(true)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var st apdu.Stats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sim, err := simulator.New(img)
		if err != nil {
			b.Fatal(err)
		}
		card := apdu.NewCard(sim)
		h := &cardHandle{Card: card, Simulated: true}
		sess := pin.NewSession(card, pin.PromptFunc(func(context.Context, pin.Request) ([]byte, error) { return []byte("1234"), nil }))
		r, err := readCard(ctx, h, sess, store, nil, parts{true, true, true, true}, func(string) {})
		if err != nil || r.Verdict != "genuine" {
			b.Fatalf("%v %v", err, r)
		}
		st = card.Stats()
	}
	b.ReportMetric(float64(st.Commands), "APDUs/read")
	b.ReportMetric(float64(st.BytesReceived), "bytes-received/read")
	b.ReportMetric(float64(st.BytesSent), "bytes-sent/read")
}
