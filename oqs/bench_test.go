package oqs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func BenchmarkParseConfirmResult(b *testing.B) {
	for _, enc := range []string{"utf-8", "shift_jis"} {
		data := readTestdata(b, "face-out-of-order.xml")
		if enc == "shift_jis" {
			data = toSJIS(b, data)
		}
		b.Run(enc, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ParseConfirmResult(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	doc, err := NewConfirmRequest(testMIC, "F1", testReq, faceNow)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := doc.Encode(ShiftJIS); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWatcherPoll is one scan of a face folder holding 200 files
// already reported: the steady-state cost of watching.
func BenchmarkWatcherPoll(b *testing.B) {
	root := b.TempDir()
	for _, d := range []string{DirFace, DirTrash} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	data := readTestdata(b, "face-out-of-order.xml")
	for i := range 200 {
		name := PrefixFaceResult + testMIC + "0123456789abcdef" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "zz_" + faceNow.Format("20060102150405") + ".xml"
		os.WriteFile(filepath.Join(root, DirFace, name), bytes.Replace(data, []byte("Zm9vYmFyYmF6cXV4"), []byte(name[40:]), 1), 0o644)
	}
	w, err := NewWatcher(WatchConfig{Root: root, Now: func() time.Time { return faceNow }, Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	w.Poll()
	if n := len(w.Poll()); n != 200 {
		b.Fatalf("%d reported", n)
	}
	for b.Loop() {
		w.Poll()
	}
}

// BenchmarkConfirmRoundTrip is a confirm whose answer is already in res:
// reserving a job, publishing, two reads and parsing.
func BenchmarkConfirmRoundTrip(b *testing.B) {
	root, state := b.TempDir(), b.TempDir()
	for _, d := range []string{DirRequests, DirResults} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	c, err := NewClient(Config{Root: root, StateDir: state, MedicalInstitutionCode: testMIC, PollInterval: time.Microsecond, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		now := time.Now()
		nr, _ := testReq.normalized(now)
		nr.ArbitraryIdentifier = now.Format(time.RFC3339Nano) // a new question every time
		j, _, err := c.confirmJob(nr, now)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.publish(context.Background(), j); err != nil {
			b.Fatal(err)
		}
		res := Group("XmlMsg", Group("MessageHeader", Leaf("MedicalInstitutionCode", testMIC), Leaf("ArbitraryFileIdentifier", j.FileIdentifier), Leaf("SegmentOfResult", "1")),
			Group("MessageBody", Leaf("ProcessingResultStatus", "1"), Leaf("QualificationValidity", "1"), Group("ResultList", Group("ResultOfQualificationConfirmation", Leaf("Name", "x")))))
		data, _ := EncodeDocument(res, UTF8)
		os.WriteFile(filepath.Join(root, DirResults, j.ResultName), data, 0o644)
		if _, err := c.run(ctx, j, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWatcherJunkWhileSettling: 32 unparseable 1 MiB face files wait
// out the settle time; the heap they keep is reported (held-MiB).
func BenchmarkWatcherJunkWhileSettling(b *testing.B) {
	root := b.TempDir()
	for _, d := range []string{DirFace, DirTrash} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	now := time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)
	junk := bytes.Repeat([]byte("<"), DefaultMaxFileSize)
	for i := 0; i < 32; i++ {
		name := fmt.Sprintf("%s%s0123456789abcdef%04d_%s.xml", PrefixFaceResult, "1398765432", i, now.Format("20060102150405"))
		os.WriteFile(filepath.Join(root, DirFace, name), junk, 0o644)
	}
	var held float64
	for b.Loop() {
		w, err := NewWatcher(WatchConfig{Root: root, Settle: time.Hour, Now: func() time.Time { return now }, Location: time.UTC})
		if err != nil {
			b.Fatal(err)
		}
		w.Poll()
		w.Poll()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		w.pending = nil // drop what the watcher holds
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		held = float64(before.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / (1 << 20)
	}
	b.ReportMetric(held, "held-MiB")
}
