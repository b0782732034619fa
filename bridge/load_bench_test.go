package bridge_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mynakit/mynakit/bridge"
)

// rssSampler follows this process's resident set size (Linux), for the
// resource benchmarks: the bridge and its clients share the process, so
// the figure bounds the bridge's.
type rssSampler struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS() *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := rssKiB(); v > s.peak.Load() {
				s.peak.Store(v)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) peakMiB() float64 {
	close(s.stop)
	<-s.done
	return float64(s.peak.Load()) / 1024
}

func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// pattern is an endless document that takes no memory on the client side.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n*7 + int64(i))
	}
	p.n += int64(len(b))
	return len(b), nil
}

// BenchmarkSign120Uploads16MiB: 120 clients upload a 16 MiB document to
// /sign at once. The reader's queue place is taken before a body is read,
// so a full queue answers 429 without reading it; the accepted documents
// are hashed as they stream into private spool files and signed one at a
// time (the holder answering at once). Reports the peak RSS of the whole
// process (target: under 256 MiB), the signatures made and the uploads
// refused.
func BenchmarkSign120Uploads16MiB(b *testing.B) {
	const clients, size = 120, 16 << 20
	for i := 0; i < b.N; i++ {
		e := start(b, withTerminal(), withOptions(func(o *bridge.Options) { o.QueueWait = 10 * time.Minute }))
		tok := e.pair(appOrigin)
		runtime.GC()
		rss := sampleRSS()
		var signed, refused, other atomic.Int64
		var wg sync.WaitGroup
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 15 * time.Minute}
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", e.url+"/v1/readers/sim/sign", io.LimitReader(&pattern{}, size))
				req.ContentLength = size
				for k, v := range app(tok, "Content-Type", "application/octet-stream", "X-Document-Name", "bench.pdf") {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					other.Add(1)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == 200:
					signed.Add(1)
				case resp.StatusCode == 202:
					// Still going: follow it to the end.
					r := e.follow(response{status: 202, header: resp.Header, body: body}, app(tok))
					if r.status == 200 {
						signed.Add(1)
					} else {
						other.Add(1)
					}
				case resp.StatusCode == http.StatusTooManyRequests:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(rss.peakMiB(), "peak-RSS-MiB")
		b.ReportMetric(float64(signed.Load()), "signed")
		b.ReportMetric(float64(refused.Load()), "refused-429")
		b.ReportMetric(float64(other.Load()), "unexpected")
		if other.Load() > 0 {
			b.Errorf("%d unexpected answers", other.Load())
		}
		e.stop()
	}
}

// BenchmarkMixed200Clients: 200 local applications, each its own
// principal, for MYNAKIT_BENCH_SECONDS (default 30) against the in-process
// simulator: reader lists, card status, event streams opened and left, and
// reads of the 共通AP (the holder approving at once). Busy answers (429
// with Retry-After, or 409 waiting-for-consent) are expected under this
// load; anything else is counted as unexpected. Reports requests, the
// unexpected answers, and the peak RSS, file descriptors and goroutines.
func BenchmarkMixed200Clients(b *testing.B) {
	const clients = 200
	dur := 30 * time.Second
	if s := os.Getenv("MYNAKIT_BENCH_SECONDS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			dur = time.Duration(v) * time.Second
		}
	}
	for i := 0; i < b.N; i++ {
		e := start(b, withTerminal())
		e.client.Transport = &http.Transport{MaxIdleConnsPerHost: clients}
		baseFD, baseG := fdCount(), runtime.NumGoroutine()
		rss := sampleRSS()
		var requests, busy atomic.Int64
		var umu sync.Mutex
		unexpected := map[string]int{}
		bad := func(what string) {
			umu.Lock()
			unexpected[what]++
			umu.Unlock()
		}
		var peakFD, peakG atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), dur)
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			tok := e.appToken(fmt.Sprintf("bench-%d", c))
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := local(tok)
				for n := c; ctx.Err() == nil; n++ {
					var status int
					var what string
					switch n % 4 {
					case 0:
						what = "readers"
						status = e.doCtx(ctx, "GET", "/v1/readers", nil, nil)
					case 1:
						what = "status"
						status = e.doCtx(ctx, "GET", "/v1/readers/sim/card", nil, h)
					case 2:
						what = "events"
						status = e.eventsOnce(ctx, h)
					case 3:
						what = "read"
						status = e.doCtx(ctx, "POST", "/v1/readers/sim/read", []byte(`{"parts":["common"]}`), h)
					}
					if ctx.Err() != nil {
						return
					}
					requests.Add(1)
					switch status {
					case 200, 202:
					case http.StatusTooManyRequests, http.StatusConflict:
						busy.Add(1)
						time.Sleep(50 * time.Millisecond)
					default:
						bad(fmt.Sprintf("%s:%d", what, status))
					}
					if v := int64(fdCount()); v > peakFD.Load() {
						peakFD.Store(v)
					}
					if v := int64(runtime.NumGoroutine()); v > peakG.Load() {
						peakG.Store(v)
					}
				}
			}()
		}
		wg.Wait()
		cancel()
		b.ReportMetric(float64(requests.Load()), "requests")
		b.ReportMetric(float64(requests.Load())/dur.Seconds(), "req/s")
		b.ReportMetric(float64(busy.Load()), "busy")
		n := 0
		for _, v := range unexpected {
			n += v
		}
		b.ReportMetric(float64(n), "unexpected")
		b.ReportMetric(rss.peakMiB(), "peak-RSS-MiB")
		b.ReportMetric(float64(peakFD.Load()-int64(baseFD)), "peak-extra-fds")
		b.ReportMetric(float64(peakG.Load()-int64(baseG)), "peak-extra-goroutines")
		if n > 0 {
			b.Errorf("unexpected answers: %v", unexpected)
		}
		e.stop()
	}
}

// doCtx sends a request and answers its status (0 when it failed).
func (e *env) doCtx(ctx context.Context, method, path string, body []byte, headers map[string]string) int {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, rd)
	if err != nil {
		return 0
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// eventsOnce opens an event stream, reads its first event and leaves.
func (e *env) eventsOnce(ctx context.Context, headers map[string]string) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/v1/events", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode
	}
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0
		}
		if strings.HasPrefix(line, "event: ") {
			return 200
		}
	}
}
