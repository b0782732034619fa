package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/doctor"
	"github.com/mynakit/mynakit/rundir"
)

// fakeDoctor replaces the probes with a PC whose pcscd, readers, runtime
// directory and bridge are as given.
func fakeDoctor(t *testing.T, p doctor.Probes) {
	t.Helper()
	old := doctorProbes
	doctorProbes = func(doctor.Options) doctor.Probes { return p }
	t.Cleanup(func() { doctorProbes = old })
}

func TestDoctorPrintsFixesAndFailsOnAStoppedBridge(t *testing.T) {
	fakeDoctor(t, doctor.Probes{
		PCSCService: func(context.Context) doctor.ServiceState {
			return doctor.ServiceState{Running: true, Name: "pcscd", Detail: "socket answers"}
		},
		Readers: func(context.Context) ([]doctor.Reader, error) {
			return []doctor.Reader{{Name: "Reader A 00 00", Driver: "ifd-ccid.bundle", CardPresent: true, ATR: []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}}}, nil
		},
		RuntimeDir: func() (string, error) { return "/run/user/1000/mynakit", nil },
		CheckDir:   func(string) error { return rundir.ErrMode },
		Bridge: func(context.Context) (doctor.BridgeInfo, error) {
			return doctor.BridgeInfo{URL: "http://127.0.0.1:7457"}, errors.New("connection refused")
		},
	})
	out, errs, code := run(t, "", "doctor")
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"OK   pcsc-service", "ifd-ccid.bundle", "3BE000FF8131FE4514", "FAIL runtime-dir", "chmod 700", "FAIL bridge", "対処:", "fix:  Start the bridge", "problems found"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestDoctorJSON(t *testing.T) {
	fakeDoctor(t, doctor.Probes{
		PCSCService: func(context.Context) doctor.ServiceState {
			return doctor.ServiceState{Name: "pcscd", Detail: "no such file"}
		},
		Readers: func(context.Context) ([]doctor.Reader, error) { return nil, nil },
	})
	out, errs, code := run(t, "", "doctor", "--json")
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var r doctor.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	f := r.Find(doctor.CheckPCSCService)
	if r.Version == "" {
		t.Fatal("no version in the report")
	}
	if len(f) != 1 || f[0].Status != doctor.Fail || f[0].Fix == nil || !strings.Contains(f[0].Fix.JA, "pcscd") {
		t.Fatalf("%+v", r)
	}
	if rd := r.Find(doctor.CheckReaders); len(rd) != 1 || rd[0].Status != doctor.Skip {
		t.Fatalf("readers with pcscd down: %+v", rd)
	}
}

func TestDoctorAllWellExitsZero(t *testing.T) {
	fakeDoctor(t, doctor.Probes{
		PCSCService: func(context.Context) doctor.ServiceState { return doctor.ServiceState{Running: true, Name: "pcscd"} },
		Bridge: func(context.Context) (doctor.BridgeInfo, error) {
			return doctor.BridgeInfo{URL: "u", APIVersion: "1"}, nil
		},
	})
	out, _, code := run(t, "", "doctor")
	if code != 0 || !strings.Contains(out, "no problems found") || !strings.Contains(out, "API version 1") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
