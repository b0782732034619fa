package accesslog

import (
	"sync"
	"testing"
)

// BenchmarkAppend: one durable entry at a time (entry fsync, then the
// head written and fsync'd).
func BenchmarkAppend(b *testing.B) {
	l, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Append(Entry{ID: "op", Event: End, Action: "read", Outcome: "genuine"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendConcurrent: 16 writers share group commits.
func BenchmarkAppendConcurrent(b *testing.B) {
	l, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	b.SetParallelism(8)
	var once sync.Once
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(Entry{ID: "op", Event: End, Action: "read", Outcome: "genuine"}); err != nil {
				once.Do(func() { b.Error(err) })
				return
			}
		}
	})
}

// BenchmarkVerify checks a log of 10,000 entries.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 10000; i++ {
		if _, err := l.Write(Entry{ID: "op", Event: Begin, Origin: "https://clinic.example", Action: "read", Data: []string{"text"}}); err != nil {
			b.Fatal(err)
		}
	}
	l.Close()
	b.ReportAllocs()
	for b.Loop() {
		rep, _, err := Verify(l.Path())
		if err != nil || !rep.Intact() {
			b.Fatal(rep, err)
		}
	}
}
