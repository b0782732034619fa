package doctor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mynakit/mynakit/internal/golden"
)

// TestReportJSONGolden: `doctor --json` is Report's own JSON, fixed by a
// golden file over a run whose every probe is scripted.
func TestReportJSONGolden(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	r := Run(context.Background(), Probes{
		PCSCService: func(context.Context) ServiceState {
			return ServiceState{Running: true, Name: "pcscd", Detail: "socket /run/pcscd/pcscd.comm answers"}
		},
		Readers: func(context.Context) ([]Reader, error) {
			return []Reader{
				{Name: "mynakit sim 00 00", Driver: "vpcd", CardPresent: true, ATR: []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}},
				{Name: "Other Reader 01 00", Driver: "ccid", CardPresent: true, ATR: []byte{0x3B, 0x8F, 0x80, 0x01}},
			}, nil
		},
		RuntimeDir: func() (string, error) { return "/run/user/1000/mynakit", nil },
		CheckDir:   func(string) error { return errors.New("mode 0755, want 0700") },
		Bridge:     func(context.Context) (BridgeInfo, error) { return BridgeInfo{}, errors.New("connection refused") },
		Now:        func() time.Time { return now },
		Anchors: func() ([]Anchor, error) {
			return []Anchor{{Name: "J-LIS JPKI user-authentication CA gen 3", Production: true, NotBefore: now.AddDate(-3, 0, 0), NotAfter: now.AddDate(7, 0, 0)}}, nil
		},
		AccessLog: func() (LogState, error) { return LogState{Path: "/var/lib/mynakit/access.log", Entries: 12}, nil },
	})
	r.Version = "test"
	golden.Check(t, "report.golden.json", golden.Indented(t, r))
}
