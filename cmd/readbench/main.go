// Command readbench prints the read-plan table of `make bench`: for a full
// read-and-verify of the default persona, a read of the text applet alone,
// a thorough read, and a full read with the CV-certificate cache warm, the
// APDUs and bytes each costs, its modelled time on every link profile
// (simulator.Links) and the time to the first facts — each beside the
// minimum possible for the same data: one command per file, plus the
// applet selections, the PIN and the presence proof. A second table shows
// what issue 14's rule costs: the SELECTs that learn which applets are
// there before any secret is asked, and the text applet's own presence
// proof beside the card face's.
//
// The times are modelled, not measured: the in-process simulator meters
// each exchange on the link (simulator.WithLinkMeter) without waiting.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

type exchange struct {
	cmd, resp []byte
}

// logged records every exchange of a simulated card.
type logged struct {
	*simulator.Card
	log []exchange
}

func (l *logged) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	resp, err := l.Card.Transmit(ctx, cmd)
	if err == nil {
		l.log = append(l.log, exchange{append([]byte(nil), cmd...), append([]byte(nil), resp...)})
	}
	return resp, err
}

type scenario struct {
	name  string
	opts  mynakit.ReadOptions
	cache bool // warm the CV cache first
	codeB bool // 照合番号B instead of the PIN, as at a counter
}

type result struct {
	apdus, sent, recv int64
	times             []time.Duration // per link
	first             []time.Duration // time to the first facts, per link
	min               minimum
	log               []exchange // the exchanges, on the first link
}

func main() {
	img, err := persona.Build(persona.Default())
	if err != nil {
		fail(err)
	}
	scenarios := []scenario{
		{"full read-and-verify", mynakit.ReadOptions{}, false, false},
		{"--only text", mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartText}}, false, false},
		{"--thorough", mynakit.ReadOptions{Thorough: true}, false, false},
		{"full, CV cache warm", mynakit.ReadOptions{}, true, false},
		{"full, --code-b", mynakit.ReadOptions{}, false, true},
	}
	links := simulator.Links()
	var results []result
	for _, sc := range scenarios {
		var res result
		for li, link := range links {
			var cache *cardap.CVCache
			if sc.cache {
				cache = cardap.NewCVCache()
				if _, _, _, err := run(img, sc.opts, nil, cache, sc.codeB); err != nil {
					fail(err)
				}
			}
			meter := simulator.NewLinkMeter(link)
			r, first, log, err := run(img, sc.opts, meter, cache, sc.codeB)
			if err != nil {
				fail(err)
			}
			if r.Verdict != trust.Genuine {
				fail(fmt.Errorf("%s: verdict %s", sc.name, r.Verdict))
			}
			res.times = append(res.times, meter.Elapsed())
			res.first = append(res.first, first)
			if li == 0 {
				res.apdus, res.sent, res.recv = r.Stats.Commands, r.Stats.BytesSent, r.Stats.BytesReceived
				res.min = minimal(log)
				res.log = log
			}
		}
		results = append(results, res)
	}

	fmt.Println("Read plan: the default persona in the in-process simulator; times modelled on each link (see simulator.Links).")
	fmt.Println("Each figure is followed by the minimum for the same data: one command per file, plus applet selections, PIN and presence proof.")
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "scenario\tAPDUs\tsent B\treceived B\t")
	for _, l := range links {
		fmt.Fprintf(tw, "%s s\t", l.Name)
	}
	fmt.Fprint(tw, "first facts (contact) s\t\n")
	for i, sc := range scenarios {
		r := results[i]
		fmt.Fprintf(tw, "%s\t%d (%d)\t%d (%d)\t%d (%d)\t", sc.name, r.apdus, r.min.apdus, r.sent, r.min.sent, r.recv, r.min.recv)
		for li, l := range links {
			fmt.Fprintf(tw, "%.2f (%.2f)\t", r.times[li].Seconds(), r.min.time(l).Seconds())
		}
		fmt.Fprintf(tw, "%.2f\t\n", r.first[0].Seconds())
	}
	tw.Flush()
	fmt.Println()
	full, warm := results[0], results[3]
	check := func(what string, ok bool) {
		mark := "met"
		if !ok {
			mark = "NOT MET"
		}
		fmt.Printf("  %-58s %s\n", what, mark)
	}
	fmt.Println("What the verdict rule of issue 14 costs in a full read (each applet proves its own chip; applets known before any secret):")
	tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "step	APDUs	")
	for _, l := range links {
		fmt.Fprintf(tw, "%s s	", l.Name)
	}
	fmt.Fprint(tw, "\n")
	for _, st := range ruleCost(full.log) {
		fmt.Fprintf(tw, "%s\t%d\t", st.name, len(st.exchanges))
		for _, l := range links {
			var d time.Duration
			for _, e := range st.exchanges {
				d += l.Cost(len(e.cmd), len(e.resp), e.cmd[1])
			}
			fmt.Fprintf(tw, "%.3f\t", d.Seconds())
		}
		fmt.Fprint(tw, "\n")
	}
	tw.Flush()
	fmt.Println()
	fmt.Println("Targets:")
	check(fmt.Sprintf("full read at most 28 APDUs (%d)", full.apdus), full.apdus <= 28)
	check(fmt.Sprintf("full read at most 7.2 s on default-rate contact (%.3f s)", full.times[0].Seconds()), full.times[0] <= 7200*time.Millisecond)
	check(fmt.Sprintf("full read, CV cache warm, at most 6.2 s (%.3f s)", warm.times[0].Seconds()), warm.times[0] <= 6200*time.Millisecond)
	check(fmt.Sprintf("full read at most 0.65 s contactless (%.3f s)", full.times[2].Seconds()), full.times[2] <= 650*time.Millisecond)
	check(fmt.Sprintf("first facts at most 2.5 s on default-rate contact (%.3f s)", full.first[0].Seconds()), full.first[0] <= 2500*time.Millisecond)
	cpu := verifyCPU(img)
	check(fmt.Sprintf("verification CPU under 5 ms (%.2f ms)", float64(cpu)/float64(time.Millisecond)), cpu < 5*time.Millisecond)
}

// run reads img once, metering on m (nil: none), and returns the report,
// the modelled time when the first facts were verified, and the exchanges.
func run(img *simulator.Image, opts mynakit.ReadOptions, m *simulator.LinkMeter, cache *cardap.CVCache, codeB bool) (*mynakit.Report, time.Duration, []exchange, error) {
	var simOpts []simulator.Option
	if m != nil {
		simOpts = append(simOpts, simulator.WithLinkMeter(m))
	}
	sc, err := simulator.New(img, simOpts...)
	if err != nil {
		return nil, 0, nil, err
	}
	lg := &logged{Card: sc}
	answer := pin.PromptFunc(func(_ context.Context, r pin.Request) ([]byte, error) {
		if r.Kind == myna.CodeB {
			return []byte("55021720352285"), nil // the default persona's
		}
		return []byte("1234"), nil
	})
	card, err := mynakit.OpenTransport(lg, "bench", mynakit.OpenOptions{Prompter: answer, CVCache: cache, CodeBFirst: codeB})
	if err != nil {
		return nil, 0, nil, err
	}
	defer card.Close()
	var first time.Duration
	opts.Progress = func(p mynakit.Progress) {
		if p.Done && first == 0 && m != nil && (p.Report.Text != nil || p.Report.Surface != nil) {
			first = m.Elapsed()
		}
	}
	r, err := card.Read(context.Background(), opts)
	return r, first, lg.log, err
}

// ruleStep is a group of exchanges a part of the verdict rule costs.
type ruleStep struct {
	name      string
	exchanges []exchange
}

// ruleCost picks out of a read's exchanges what issue 14's rule added: the
// SELECTs that only learn an applet is there (followed at once by another
// SELECT), and the text applet's presence proof (EF 0007, GET CHALLENGE and
// the signature, made while the text applet is selected); the card face's
// proof is shown beside them for comparison.
func ruleCost(log []exchange) []ruleStep {
	text, surface := myna.Text.AID(), myna.Surface.AID()
	probe, textProof, faceProof := ruleStep{name: "SELECTs that learn which applets are there"}, ruleStep{name: "text applet's presence proof (EF 0007, challenge, signature)"}, ruleStep{name: "card face's presence proof (challenge, signature)"}
	var applet []byte
	for i, e := range log {
		c := e.cmd
		if len(c) < 4 {
			continue
		}
		switch {
		case c[1] == 0xA4 && c[2] == 0x04:
			applet = c[5:]
			if i+1 < len(log) && len(log[i+1].cmd) > 2 && log[i+1].cmd[1] == 0xA4 && log[i+1].cmd[2] == 0x04 {
				probe.exchanges = append(probe.exchanges, e)
			}
		case bytes.Equal(applet, text) && (c[1] == 0x84 || c[1] == 0x2A || c[1] == 0xB0 && c[2] == 0x87):
			textProof.exchanges = append(textProof.exchanges, e)
		case bytes.Equal(applet, surface) && (c[1] == 0x84 || c[1] == 0x2A):
			faceProof.exchanges = append(faceProof.exchanges, e)
		}
	}
	return []ruleStep{probe, textProof, faceProof}
}

// minimum is the least the same read could cost.
type minimum struct {
	apdus, sent, recv int64
	exchanges         [][3]int // command length, response length, INS
}

func (m minimum) time(l simulator.Link) time.Duration {
	var d time.Duration
	for _, e := range m.exchanges {
		d += l.Cost(e[0], e[1], byte(e[2]))
	}
	return d
}

// minimal turns the exchanges of a read into the fewest that fetch the same
// data: one SELECT per applet visited, one tries query and one VERIFY per
// key, one READ BINARY (extended Le when more than 256 bytes) per file
// with exactly the bytes read of it, and the other commands as they were.
func minimal(log []exchange) minimum {
	var m minimum
	add := func(cmdLen, respLen int, ins byte) {
		m.apdus++
		m.sent += int64(cmdLen)
		m.recv += int64(respLen)
		m.exchanges = append(m.exchanges, [3]int{cmdLen, respLen, int(ins)})
	}
	type file struct{ applet, ef string }
	var order []file
	read := map[file]int{}
	selected := map[string]bool{}
	queried := map[string]bool{}
	applet, ef := "", ""
	for _, e := range log {
		c := e.cmd
		if len(c) < 4 {
			continue
		}
		ins, p1 := c[1], c[2]
		switch {
		case ins == 0xA4 && p1 == 0x04:
			applet = fmt.Sprintf("%X", c[5:])
			if !selected[applet] {
				selected[applet] = true
				add(len(c), len(e.resp), ins)
			}
		case ins == 0xA4:
			ef = fmt.Sprintf("%X", c[5:])
		case ins == 0xB0:
			if p1&0x80 != 0 {
				ef = fmt.Sprintf("%04X", p1&0x1F)
			}
			f := file{applet, ef}
			if _, seen := read[f]; !seen {
				order = append(order, f)
			}
			read[f] += len(e.resp) - 2
		case ins == 0x20 && len(c) == 4:
			k := applet + fmt.Sprintf("%02X", c[3])
			if !queried[k] {
				queried[k] = true
				add(len(c), len(e.resp), ins)
			}
		default:
			add(len(c), len(e.resp), ins)
		}
	}
	for _, f := range order {
		cmdLen := 5
		if read[f] > 256 {
			cmdLen = 7
		}
		add(cmdLen, read[f]+2, 0xB0)
	}
	return m
}

// verifyCPU is the verification alone of a full read, without I/O: the
// fastest of a few runs of a read's worth of checks on bytes already read.
func verifyCPU(img *simulator.Image) time.Duration {
	best := time.Hour
	for i := 0; i < 5; i++ {
		sc, err := simulator.New(img)
		if err != nil {
			fail(err)
		}
		answer := pin.PromptFunc(func(context.Context, pin.Request) ([]byte, error) { return []byte("1234"), nil })
		card, err := mynakit.OpenTransport(sc, "bench", mynakit.OpenOptions{Prompter: answer})
		if err != nil {
			fail(err)
		}
		r, err := card.Read(context.Background(), mynakit.ReadOptions{})
		card.Close()
		if err != nil {
			fail(err)
		}
		t, s := r.TextData(), r.SurfaceData()
		store := card.Trust()
		start := time.Now()
		cardap.VerifyText(t.Raw, store)
		cardap.VerifySurface(s.Raw, store)
		store.VerifyCertificate(r.JPKI.AuthCertificate, trust.CertOptions{Name: trust.CheckAuthCert})
		if d := time.Since(start); d < best {
			best = d
		}
	}
	return best
}

func fail(err error) {
	var b bytes.Buffer
	fmt.Fprintln(&b, "readbench:", err)
	os.Stderr.Write(b.Bytes())
	os.Exit(1)
}
