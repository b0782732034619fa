package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestArchivesAreReproducible(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "b"), 0o700)
	os.WriteFile(filepath.Join(dir, "b", "x.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "run"), []byte("#!/bin/sh\n"), 0o700)
	at := time.Unix(1700000000, 0)
	for _, w := range []func(*bytes.Buffer, []entry) error{
		func(b *bytes.Buffer, es []entry) error { return zipWriter(b, es, at) },
		func(b *bytes.Buffer, es []entry) error { return tgzWriter(b, es, at) },
	} {
		var out [2]bytes.Buffer
		for i := range out {
			if i == 1 {
				now := time.Now()
				os.Chtimes(filepath.Join(dir, "run"), now, now) // a later checkout
			}
			es, err := collect(dir, "p")
			if err != nil {
				t.Fatal(err)
			}
			if err := w(&out[i], es); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
			t.Fatal("two archives of the same files differ")
		}
	}
	es, _ := collect(dir, "p")
	var buf bytes.Buffer
	zipWriter(&buf, es, at)
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{}
	for _, f := range zr.File {
		modes[f.Name] = f.Mode().Perm()
		if !f.Modified.Equal(at) {
			t.Errorf("%s dated %v", f.Name, f.Modified)
		}
	}
	if modes["p/run"] != 0o755 || modes["p/b/x.txt"] != 0o644 {
		t.Fatalf("modes %v", modes)
	}
}

func TestStampMSI(t *testing.T) {
	built := time.Unix(1800000000, 0)
	var b []byte
	b = append(b, "xx{AAAAAAAA-0000-0000-0000-000000000000}yy"...)
	b = append(b, "mynakit-madoguchi-lnk"...)
	ft := make([]byte, 12)
	binary.LittleEndian.PutUint32(ft, 0x40)
	binary.LittleEndian.PutUint64(ft[4:], filetime(built))
	b = append(b, ft...)
	out, err := StampMSI(b, "{AAAAAAAA-0000-0000-0000-000000000000}", "{BBBBBBBB-0000-0000-0000-000000000000}",
		built.Add(-time.Second), built.Add(time.Second), time.Unix(1700000000, 0), "mynakit-madoguchi-lnk", "MADOGUCH|mynakit 窓口")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("{BBBBBBBB-")) || bytes.Contains(out, []byte("madoguchi")) || !bytes.Contains(out, []byte{0x91, 0x8b, 0x8c, 0xfb}) {
		t.Fatalf("not stamped: %q", out)
	}
	if got := binary.LittleEndian.Uint64(out[len(out)-8:]); got != filetime(time.Unix(1700000000, 0)) {
		t.Fatalf("date %d", got)
	}
	if _, err := StampMSI(b, "{AAAAAAAA-0000-0000-0000-000000000000}", "{B}", built, built, built, "mynakit-madoguchi-lnk", "x"); err == nil {
		t.Fatal("a code of another length was accepted")
	}
}

func TestStampSBOM(t *testing.T) {
	in := []byte(`{"metadata": {"timestamp": "2026-12-07T21:11:00Z", "component": {}}, "x": {"timestamp": "keep"}}`)
	out, err := StampSBOM(in, time.Unix(1700000000, 0))
	if err != nil || string(out) != `{"metadata": {"timestamp": "2023-11-14T22:13:20Z", "component": {}}, "x": {"timestamp": "keep"}}` {
		t.Fatalf("%s %v", out, err)
	}
	if _, err := StampSBOM([]byte(`{}`), time.Unix(0, 0)); err == nil {
		t.Fatal("no timestamp accepted")
	}
}

// The test binary itself, linked by the host toolchain, imports a GLIBC
// version when cgo is on; a file that is not ELF is an error.
func TestNeededGlibc(t *testing.T) {
	if _, err := NeededGlibc("main.go"); err == nil {
		t.Fatal("a Go source file taken for ELF")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NeededGlibc(exe)
	if err != nil {
		t.Skipf("test binary imports no glibc symbol version (static or no cgo): %v", err)
	}
	if !regexp.MustCompile(`^2\.[0-9]+(\.[0-9]+)?$`).MatchString(v) {
		t.Fatalf("GLIBC version %q", v)
	}
}
