package bridge_test

import (
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkStatus50Clients: card status requests (GET /card: the PIN tries,
// read from the card, and the access record of each operation) from 50
// clients at once against the in-process simulator; p50 and p99 latency.
// The target is a p99 under 5 ms.
func BenchmarkStatus50Clients(b *testing.B) { benchConcurrent(b, "/v1/readers/sim/card") }

// BenchmarkReaders50Clients is the same load on GET /v1/readers, which
// touches no card: the floor the HTTP stack sets on this machine, with the
// clients in the same process.
func BenchmarkReaders50Clients(b *testing.B) { benchConcurrent(b, "/v1/readers") }

func benchConcurrent(b *testing.B, path string) {
	// The time the bridge itself takes, from the request read to the
	// answer written, beside the time the clients see.
	var smu sync.Mutex
	var server []time.Duration
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			h.ServeHTTP(w, r)
			d := time.Since(t0)
			if r.URL.Path == path {
				smu.Lock()
				server = append(server, d)
				smu.Unlock()
			}
		})
	}
	e := start(b, withWrap(wrap))
	e.client.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	tok := e.pair(appOrigin)
	h := app(tok)
	clients := benchClients()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				r := e.do("GET", path, nil, h)
				lat[i] = time.Since(t0)
				if r.status != 200 {
					b.Errorf("status %d %s", r.status, r.body)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	pct := func(l []time.Duration, p float64) float64 {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	smu.Lock()
	defer smu.Unlock()
	if len(server) > 0 {
		b.ReportMetric(pct(server, 0.50), "server-p50-ms")
		b.ReportMetric(pct(server, 0.99), "server-p99-ms")
	}
}

// BenchmarkFullReadThroughBridge: full reads (every part, with the photo)
// through the bridge against the in-process simulator, the PIN answered
// at once; reads per second.
func BenchmarkFullReadThroughBridge(b *testing.B) {
	e := start(b, withTerminal())
	tok := e.pair(appOrigin)
	h := app(tok)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := e.follow(e.do("POST", "/v1/readers/sim/read", []byte(`{"photo":true}`), h), h)
		if r.status != 200 {
			b.Fatalf("read: %d %s", r.status, r.body)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
}

func benchClients() int {
	if n := os.Getenv("MYNAKIT_BENCH_CLIENTS"); n != "" {
		if v, err := strconv.Atoi(n); err == nil && v > 0 {
			return v
		}
	}
	return 50
}
