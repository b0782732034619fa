package doctor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/rundir"
)

func one(t *testing.T, r Report, c Check) Finding {
	t.Helper()
	fs := r.Find(c)
	if len(fs) == 0 {
		t.Fatalf("no %s finding in %+v", c, r.Findings)
	}
	return fs[0]
}

// wantFix checks a finding failed or warned with a fix in both languages
// that says what to do.
func wantFix(t *testing.T, f Finding, status Status, ja, en string) {
	t.Helper()
	if f.Status != status || f.Fix == nil || !strings.Contains(f.Fix.JA, ja) || !strings.Contains(f.Fix.EN, en) {
		t.Fatalf("%s: got %+v (fix %+v), want %s with fix %q / %q", f.Check, f, f.Fix, status, ja, en)
	}
}

func TestDoctorNoPCSCD(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "pcscd.comm") // nothing listens
	readersCalled := false
	r := Run(context.Background(), Probes{
		PCSCService: func(context.Context) ServiceState { return SocketProbe(sock) },
		Readers:     func(context.Context) ([]Reader, error) { readersCalled = true; return nil, nil },
	})
	wantFix(t, one(t, r, CheckPCSCService), Fail, "pcscd", "systemctl enable --now pcscd.socket")
	if readersCalled || one(t, r, CheckReaders).Status != Skip {
		t.Fatal("readers were listed with no PC/SC service")
	}
	if r.Worst() != Fail {
		t.Fatal("worst is not fail")
	}
}

func TestDoctorPCSCDAnswering(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "pcscd.comm")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	if s := SocketProbe(sock); !s.Running {
		t.Fatalf("listening socket not seen: %+v", s)
	}
}

func TestDoctorWindowsSmartCardServiceFix(t *testing.T) {
	f, up := checkService(ServiceState{Name: "SCardSvr", Detail: "service not running"})
	if up {
		t.Fatal("stopped service reported up")
	}
	wantFix(t, f, Fail, "Smart Card", "SCardSvr")
}

func TestDoctorNoReader(t *testing.T) {
	r := Run(context.Background(), Probes{
		PCSCService: func(context.Context) ServiceState { return ServiceState{Running: true, Name: "pcscd"} },
		Readers:     func(context.Context) ([]Reader, error) { return nil, nil },
	})
	wantFix(t, one(t, r, CheckReaders), Fail, "カードリーダー", "Plug the card reader in")
}

func TestDoctorUnknownATRIsPrintedWithAFix(t *testing.T) {
	atr, _ := hex.DecodeString("3B8F8001804F0CA000000306030001000000006A")
	r := Run(context.Background(), Probes{
		Readers: func(context.Context) ([]Reader, error) {
			return []Reader{{Name: "ACS ACR1252 1S CL Reader PICC 00 00", Driver: "ifd-ccid.bundle", CardPresent: true, ATR: atr}}, nil
		},
	})
	rd := one(t, r, CheckReaders)
	if rd.Status != OK || !strings.Contains(rd.Message, "ifd-ccid.bundle") {
		t.Fatalf("reader finding %+v", rd)
	}
	f := one(t, r, CheckCard)
	wantFix(t, f, Warn, "ATR", "report this ATR")
	if !strings.Contains(f.Message, "3B8F8001804F0CA000000306030001000000006A") {
		t.Fatalf("ATR not printed: %s", f.Message)
	}
}

func TestDoctorKnownATRs(t *testing.T) {
	for _, s := range []string{"3BE000FF8131FE4514", "3B888001000005E0B381A1007F"} {
		b, _ := hex.DecodeString(s)
		if f := checkCard(Reader{Name: "r", CardPresent: true, ATR: b}); f.Status != OK || f.Fix != nil {
			t.Errorf("%s: %+v", s, f)
		}
	}
	b, _ := hex.DecodeString("3B888001000014E0B38191005E")
	if f := checkCard(Reader{Name: "r", CardPresent: true, ATR: b}); f.Status != Warn {
		t.Errorf("住基カード: %+v", f)
	}
	if f := checkCard(Reader{Name: "r"}); f.Status != Skip {
		t.Errorf("empty reader: %+v", f)
	}
}

func TestDoctorRuntimeDirWithWrongMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mynakit")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	secret := "launch-secret-do-not-print-7f3a9c"
	os.WriteFile(filepath.Join(dir, "launch-secret"), []byte(secret), 0o600)
	r := Run(context.Background(), Probes{RuntimeDir: func() (string, error) { return dir, nil }, CheckDir: rundir.Check})
	wantFix(t, one(t, r, CheckRuntimeDir), Fail, "chmod 700", "chmod 700")
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), secret) {
		t.Fatal("the report shows the launch secret")
	}
	os.Chmod(dir, 0o700)
	r = Run(context.Background(), Probes{RuntimeDir: func() (string, error) { return dir, nil }, CheckDir: rundir.Check})
	if f := one(t, r, CheckRuntimeDir); f.Status != OK {
		t.Fatalf("0700 dir: %+v", f)
	}
	r = Run(context.Background(), Probes{RuntimeDir: func() (string, error) { return filepath.Join(dir, "nope"), nil }, CheckDir: rundir.Check})
	if f := one(t, r, CheckRuntimeDir); f.Status != OK || !strings.Contains(f.Message, "not created yet") {
		t.Fatalf("missing dir: %+v", f)
	}
	r = Run(context.Background(), Probes{RuntimeDir: func() (string, error) { return "", rundir.ErrNoDir }, CheckDir: rundir.Check})
	wantFix(t, one(t, r, CheckRuntimeDir), Fail, "ログイン", "Log in")
}

func TestDoctorRuntimeDirOfAnotherUser(t *testing.T) {
	r := Run(context.Background(), Probes{
		RuntimeDir: func() (string, error) { return "/run/user/1000/mynakit", nil },
		CheckDir:   func(string) error { return rundir.ErrOwner },
	})
	wantFix(t, one(t, r, CheckRuntimeDir), Fail, "他のユーザー", "another user")
}

func TestDoctorStoppedBridge(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	r := Run(context.Background(), Probes{Bridge: func(ctx context.Context) (BridgeInfo, error) { return ProbeBridge(ctx, http.DefaultClient, url) }})
	wantFix(t, one(t, r, CheckBridge), Fail, "mynakit.socket", "systemctl --user enable --now mynakit.socket")
}

func TestDoctorBridgeVersionAndImpostor(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/openapi.json" {
			w.Write([]byte(`{"openapi":"3.1.0","info":{"title":"mynakit bridge","version":"1"}}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	info, err := ProbeBridge(context.Background(), srv.Client(), srv.URL)
	if err != nil || info.APIVersion != "1" {
		t.Fatalf("%+v %v", info, err)
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"info":{"title":"something"}}`)) }))
	defer other.Close()
	if _, err := ProbeBridge(context.Background(), other.Client(), other.URL); err == nil {
		t.Fatal("another program on the port was taken for the bridge")
	}
}

func TestDoctorBrowserPolicies(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lna.json"), []byte(`{"LocalNetworkAccessBlockedForUrls":["*"],"HomepageLocation":"x"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{`), 0o644)
	files, err := ReadPolicies([]string{dir, filepath.Join(dir, "absent")})
	if err != nil || len(files) != 2 {
		t.Fatalf("%v %v", files, err)
	}
	fs := checkPolicies(files, nil)
	if len(fs) != 2 {
		t.Fatalf("%+v", fs)
	}
	for _, f := range fs {
		if f.Status != Warn || f.Fix == nil {
			t.Fatalf("%+v", f)
		}
	}
	if !strings.Contains(fs[1].Message, `LocalNetworkAccessBlockedForUrls=["*"]`) || strings.Contains(fs[1].Message, "Homepage") {
		t.Fatalf("message %q", fs[1].Message)
	}
	if fs := checkPolicies(map[string][]byte{}, nil); len(fs) != 1 || fs[0].Status != OK {
		t.Fatalf("no policy: %+v", fs)
	}
	if fs := checkPolicies(nil, errors.New("windows")); fs[0].Status != Skip {
		t.Fatalf("unreadable: %+v", fs)
	}
}

func TestDoctorClockAgainstAnchors(t *testing.T) {
	y := func(n int) time.Time { return time.Date(n, 1, 1, 0, 0, 0, 0, time.UTC) }
	as := []Anchor{{Name: "root gen 3", NotBefore: y(2023), NotAfter: y(2043)}, {Name: "root gen 2", NotBefore: y(2014), NotAfter: y(2024)}, {Name: "cv key"}}
	r := Run(context.Background(), Probes{Now: func() time.Time { return y(2026) }, Anchors: func() ([]Anchor, error) { return as, nil }})
	if f := one(t, r, CheckClock); f.Status != OK {
		t.Fatalf("%+v", f)
	}
	if f := one(t, r, CheckAnchors); f.Status != OK || !strings.Contains(f.Message, "3 trust anchors loaded") {
		t.Fatalf("%+v", f)
	}
	as = as[:2]
	r = Run(context.Background(), Probes{Now: func() time.Time { return y(2001) }, Anchors: func() ([]Anchor, error) { return as, nil }})
	wantFix(t, one(t, r, CheckClock), Fail, "時刻", "date and time")
	r = Run(context.Background(), Probes{Now: func() time.Time { return y(2042).Add(24 * time.Hour * 300) }, Anchors: func() ([]Anchor, error) { return as, nil }})
	var soonSeen bool
	for _, f := range r.Find(CheckAnchors) {
		soonSeen = soonSeen || (f.Status == Warn && f.Subject == "root gen 3")
	}
	if !soonSeen {
		t.Fatalf("an anchor expiring soon not mentioned: %+v", r.Findings)
	}
}

func TestDoctorRealAnchorsLoad(t *testing.T) {
	as, err := LoadAnchors(nil)
	if err != nil || len(as) == 0 {
		t.Fatalf("%d anchors, %v", len(as), err)
	}
	f := checkAnchors(time.Now(), as, nil)
	if f[0].Status != OK {
		t.Fatalf("%+v", f[0])
	}
}

func TestDoctorAccessLogVerifiesAndTamperIsSeen(t *testing.T) {
	dir := t.TempDir()
	lg, err := accesslog.Open(dir, accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := lg.Append(accesslog.Entry{Action: "read", Origin: "http://127.0.0.1:7457"}); err != nil {
			t.Fatal(err)
		}
	}
	lg.Close()
	path := filepath.Join(dir, accesslog.FileName)
	r := Run(context.Background(), Probes{AccessLog: func() (LogState, error) { return VerifyLog(path) }})
	if f := one(t, r, CheckAccessLog); f.Status != OK || !strings.Contains(f.Message, "3 entries") {
		t.Fatalf("%+v", f)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), `"read"`, `"sign"`, 1)), 0o600)
	r = Run(context.Background(), Probes{AccessLog: func() (LogState, error) { return VerifyLog(path) }})
	wantFix(t, one(t, r, CheckAccessLog), Fail, "改ざん", "altered")
	r = Run(context.Background(), Probes{AccessLog: func() (LogState, error) { return VerifyLog(filepath.Join(dir, "x", "access.log")) }})
	if f := one(t, r, CheckAccessLog); f.Status != Skip {
		t.Fatalf("no log: %+v", f)
	}
}

func TestDoctorDriverFor(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "reader.conf.d")
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "vpcd"), []byte("FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x8C7B\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\n"), 0o644)
	pl := filepath.Join(dir, "drivers", "ifd-ccid.bundle", "Contents")
	os.MkdirAll(pl, 0o755)
	os.WriteFile(filepath.Join(pl, "Info.plist"), []byte("<plist><dict><key>ifdFriendlyName</key>\n<array>\n<string>SONY FeliCa Port</string>\n<string>SONY FeliCa Port/PaSoRi 3.0</string>\n</array></dict></plist>"), 0o644)
	drivers := []string{filepath.Join(dir, "drivers")}
	for reader, want := range map[string]string{
		"Virtual PCD 00 00":                        "libifdvpcd.so (vpcd)",
		"SONY FeliCa Port/PaSoRi 3.0 [CCID] 00 00": "ifd-ccid.bundle",
		"Unknown Reader 00 00":                     "",
	} {
		if got := DriverFor(reader, drivers, conf); got != want {
			t.Errorf("%q: got %q, want %q", reader, got, want)
		}
	}
}

func TestDoctorRuntimeDirFixOnWindows(t *testing.T) {
	old := goos
	goos = "windows"
	defer func() { goos = old }()
	r := Run(context.Background(), Probes{
		RuntimeDir: func() (string, error) { return `C:\Users\clerk\AppData\Local\mynakit\run`, nil },
		CheckDir:   func(string) error { return rundir.ErrMode },
	})
	f := one(t, r, CheckRuntimeDir)
	wantFix(t, f, Fail, "削除", "delete this folder")
	if strings.Contains(f.Fix.EN, "chmod") {
		t.Fatalf("a Unix fix on Windows: %s", f.Fix.EN)
	}
}
