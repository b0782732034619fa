package face

import (
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

// heapPeak samples the heap in use (runtime.MemStats HeapInuse) every
// millisecond while f runs, and returns the highest sample above what was
// in use before, with the bytes f allocated in all (TotalAlloc).
func heapPeak(f func()) (peak, total uint64) {
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var mu sync.Mutex
	high := m0.HeapInuse
	stop, done := make(chan struct{}), make(chan struct{})
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		high = max(high, m.HeapInuse)
		mu.Unlock()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	f()
	close(stop)
	<-done
	sample()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	return high - m0.HeapInuse, m1.TotalAlloc - m0.TotalAlloc
}

// decodeInputs are the benchmark's inputs of at most 16 KiB: the hostile
// ones, and the legitimate test images that small.
func decodeInputs(b *testing.B) (names []string, in map[string][]byte) {
	in = hostileInputs(b)
	for _, name := range testImages(b) {
		if d := readTestdata(b, name); len(d) <= 16<<10 {
			in["legit-"+name] = d
		}
	}
	for name := range in {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, in
}

// BenchmarkDecodeHostile decodes each input of at most 16 KiB (hostile and
// legitimate) and reports the peak heap in use above the baseline
// (peak-MiB, sampled every millisecond) and the bytes allocated per decode
// (alloc-MiB/op). The target is a peak under 64 MiB for any input.
//
//	go test ./face/ -run '^$' -bench DecodeHostile -benchtime 3x
func BenchmarkDecodeHostile(b *testing.B) {
	names, in := decodeInputs(b)
	for _, name := range names {
		data := in[name]
		b.Run(name, func(b *testing.B) {
			var peak, total uint64
			for b.Loop() {
				p, t := heapPeak(func() { _, _ = Decode(data) })
				peak, total = max(peak, p), total+t
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(float64(total)/float64(b.N)/(1<<20), "alloc-MiB/op")
			b.ReportMetric(float64(len(data)), "input-bytes")
		})
	}
}
