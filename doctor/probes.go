package doctor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/apdu/pcsc"
	"github.com/mynakit/mynakit/rundir"
	"github.com/mynakit/mynakit/trust"
)

// Options configure the real probes.
type Options struct {
	BridgeURL    string   // default http://127.0.0.1:7457
	TrustDirs    []string // folders of extra anchors (trust.Store.AddDir)
	AccessLogDir string   // the folder the bridge keeps its access log in
	// PolicyDirs are the browsers' managed policy folders (default: the
	// Chrome, Chromium and Edge folders under /etc on Linux).
	PolicyDirs []string
	// DriverDirs and ReaderConfDir locate pcscd's drivers (Linux).
	DriverDirs    []string
	ReaderConfDir string
}

// Default returns the real probes for this PC.
func Default(o Options) Probes {
	if o.BridgeURL == "" {
		o.BridgeURL = "http://127.0.0.1:7457"
	}
	if o.PolicyDirs == nil {
		o.PolicyDirs = defaultPolicyDirs
	}
	if o.DriverDirs == nil {
		o.DriverDirs = []string{"/usr/lib/pcsc/drivers", "/usr/local/lib/pcsc/drivers"}
	}
	if o.ReaderConfDir == "" {
		o.ReaderConfDir = "/etc/reader.conf.d"
	}
	p := Probes{
		PCSCService: serviceProbe,
		Readers: func(context.Context) ([]Reader, error) {
			return pcscReaders(func(name string) string { return DriverFor(name, o.DriverDirs, o.ReaderConfDir) })
		},
		RuntimeDir: rundir.Dir,
		CheckDir:   rundir.Check,
		Bridge: func(ctx context.Context) (BridgeInfo, error) {
			return ProbeBridge(ctx, http.DefaultClient, o.BridgeURL)
		},
		Now:     time.Now,
		Anchors: func() ([]Anchor, error) { return LoadAnchors(o.TrustDirs) },
	}
	p.BrowserPolicies = func() (map[string][]byte, error) { return ReadPolicies(o.PolicyDirs) }
	if len(o.PolicyDirs) == 0 {
		p.BrowserPolicies = func() (map[string][]byte, error) {
			return nil, errors.New("managed browser policies are read on Linux only; open chrome://policy (or edge://policy) to see them")
		}
	}
	if o.AccessLogDir != "" {
		p.AccessLog = func() (LogState, error) { return VerifyLog(filepath.Join(o.AccessLogDir, accesslog.FileName)) }
	}
	return p
}

func pcscReaders(driver func(string) string) ([]Reader, error) {
	ctx, err := pcsc.Establish()
	if err != nil {
		return nil, err
	}
	defer ctx.Close()
	rs, err := ctx.Readers()
	if err != nil {
		return nil, err
	}
	out := make([]Reader, len(rs))
	for i, r := range rs {
		out[i] = Reader{Name: r.Name, CardPresent: r.CardPresent, ATR: r.ATR, Driver: driver(r.Name)}
	}
	return out, nil
}

// ProbeBridge asks the bridge at base for its API description and returns
// its version. Anything else answering on the port is an error.
func ProbeBridge(ctx context.Context, c *http.Client, base string) (BridgeInfo, error) {
	info := BridgeInfo{URL: base}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v1/openapi.json", nil)
	if err != nil {
		return info, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return info, err
	}
	defer resp.Body.Close()
	var doc struct {
		Info struct{ Title, Version string } `json:"info"`
	}
	if resp.StatusCode != http.StatusOK {
		return info, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil || !strings.Contains(doc.Info.Title, "mynakit") {
		return info, errors.New("something other than the mynakit bridge answers on this port")
	}
	info.APIVersion = doc.Info.Version
	return info, nil
}

// ReadPolicies reads the *.json files of the managed-policy folders that
// exist (at most 1 MiB each is parsed by the check).
func ReadPolicies(dirs []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, d := range dirs {
		names, err := filepath.Glob(filepath.Join(d, "*.json"))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			f, err := os.Open(n)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(io.LimitReader(f, maxPolicyFile+1))
			f.Close()
			out[n] = b
		}
	}
	return out, nil
}

// LoadAnchors lists the embedded J-LIS anchors and those in dirs.
func LoadAnchors(dirs []string) ([]Anchor, error) {
	s := trust.Embedded().Clone()
	for _, d := range dirs {
		if err := s.AddDir(d); err != nil {
			return nil, err
		}
	}
	var out []Anchor
	for _, r := range s.Roots() {
		out = append(out, Anchor{Name: r.Anchor.Name, Production: r.Anchor.Production, NotBefore: r.Cert.NotBefore, NotAfter: r.Cert.NotAfter})
	}
	for _, k := range s.CVKeys() {
		out = append(out, Anchor{Name: k.Anchor.Name, Production: k.Anchor.Production})
	}
	return out, nil
}

// VerifyLog checks the access log's hash chain; it reports problems by
// entry number and kind only.
func VerifyLog(path string) (LogState, error) {
	st := LogState{Path: path}
	rep, _, err := accesslog.Verify(path)
	if err != nil {
		return st, err
	}
	st.Entries = rep.Entries
	for _, p := range rep.Problems {
		st.Problems = append(st.Problems, fmt.Sprintf("entry %d %s", p.Entry, p.Kind))
	}
	return st, nil
}

var (
	plistFriendly = regexp.MustCompile(`(?s)<key>ifdFriendlyName</key>\s*<array>(.*?)</array>`)
	plistString   = regexp.MustCompile(`<string>([^<]*)</string>`)
	confFriendly  = regexp.MustCompile(`^\s*FRIENDLYNAME\s+"?([^"]*)"?\s*$`)
	confLib       = regexp.MustCompile(`^\s*LIBPATH\s+(\S+)`)
)

// DriverFor names the pcscd driver serving a reader: the reader.conf.d
// entry whose FRIENDLYNAME starts the reader's name (serial drivers such
// as vpcd), or the USB driver bundle whose Info.plist lists the longest
// friendly name that does. "" when none matches.
func DriverFor(reader string, driverDirs []string, confDir string) string {
	best, bestLen := "", 0
	consider := func(friendly, driver string) {
		if friendly != "" && strings.HasPrefix(reader, friendly) && len(friendly) > bestLen {
			best, bestLen = driver, len(friendly)
		}
	}
	confs, _ := filepath.Glob(filepath.Join(confDir, "*"))
	for _, c := range confs {
		b, err := readBounded(c)
		if err != nil {
			continue
		}
		var friendly string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if m := confFriendly.FindStringSubmatch(sc.Text()); m != nil {
				friendly = m[1]
			} else if m := confLib.FindStringSubmatch(sc.Text()); m != nil {
				consider(friendly, filepath.Base(m[1])+" ("+filepath.Base(c)+")")
			}
		}
	}
	for _, d := range driverDirs {
		plists, _ := filepath.Glob(filepath.Join(d, "*.bundle", "Contents", "Info.plist"))
		for _, pl := range plists {
			b, err := readBounded(pl)
			if err != nil {
				continue
			}
			bundle := filepath.Base(filepath.Dir(filepath.Dir(pl)))
			if m := plistFriendly.FindSubmatch(b); m != nil {
				for _, s := range plistString.FindAllSubmatch(m[1], -1) {
					consider(string(s[1]), bundle)
				}
			}
		}
	}
	return best
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 4<<20))
}

// SocketProbe says whether something accepts connections on a Unix socket.
func SocketProbe(path string) ServiceState {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return ServiceState{Name: "pcscd", Detail: err.Error()}
	}
	c.Close()
	return ServiceState{Running: true, Name: "pcscd", Detail: "socket " + path + " answers"}
}
