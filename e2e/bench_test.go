package e2e

import (
	"context"
	"testing"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/myna"
)

// BenchmarkPCSCTransmit measures APDUs per second through pcscd and vpcd
// (default mode, private network namespace): a SELECT EF and a 32-byte READ
// BINARY per iteration.
func BenchmarkPCSCTransmit(b *testing.B) {
	ctx := context.Background()
	card := jpkiThroughPCSC(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := card.SelectEF(ctx, myna.JPKIToken); err != nil {
			b.Fatal(err)
		}
		if _, err := card.ReadBinary(ctx, 0, 32); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(card.Stats().Commands-1)/b.Elapsed().Seconds(), "APDU/s")
}

// BenchmarkPCSCReadCertificate reads the user-authentication certificate
// through pcscd with extended length, as a reader of the card would.
func BenchmarkPCSCReadCertificate(b *testing.B) {
	ctx := context.Background()
	card := jpkiThroughPCSC(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := card.ReadObject(ctx, myna.JPKIAuthCert); err != nil {
			b.Fatal(err)
		}
	}
}

// jpkiThroughPCSC starts the stack with the default card and selects its
// JPKI applet through PC/SC.
func jpkiThroughPCSC(b *testing.B) *apdu.Card {
	_, path := defaultImage(b)
	s := startDefaultMode(b, "--image", path)
	_, tr := s.connect(b)
	card := apdu.NewCard(tr)
	if err := card.SelectAID(context.Background(), myna.JPKI.AID()); err != nil {
		b.Fatal(err)
	}
	return card
}
