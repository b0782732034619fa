// Package doctor diagnoses a counter PC for the support desk: the PC/SC
// service, the readers and their drivers, the card's ATR, the runtime
// directory of the bridge's launch secret, the bridge itself, the browser's
// Local Network Access policy, the clock against the trust anchors, and the
// access log. Each check is a Finding with a status and, when something is
// wrong, a fix in Japanese and English.
//
// Every probe is a field of Probes, so tests inject fakes; Default fills
// them with the real ones. The doctor reads no secret: it checks the
// runtime directory's owner and mode, never the launch secret's content,
// and reports the access log's integrity, never its entries.
package doctor

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/mynakit/mynakit/rundir"
)

// Status of one finding.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn" // works, but something may bite
	Fail Status = "fail" // this stops mynakit from working
	Skip Status = "skip" // could not be checked here (not an error)
)

// Check names what a finding is about.
type Check string

const (
	CheckPCSCService   Check = "pcsc-service"
	CheckReaders       Check = "readers"
	CheckCard          Check = "card"
	CheckRuntimeDir    Check = "runtime-dir"
	CheckBridge        Check = "bridge"
	CheckBrowserPolicy Check = "browser-policy"
	CheckClock         Check = "clock"
	CheckAnchors       Check = "trust-anchors"
	CheckAccessLog     Check = "access-log"
)

// Fix is what to do, for the clerk (Japanese) and for IT staff (English).
type Fix struct {
	JA string `json:"ja"`
	EN string `json:"en"`
}

// Finding is the result of one check.
type Finding struct {
	Check   Check  `json:"check"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Subject names what the finding is about when a check has several
	// (a reader, an anchor, a policy file).
	Subject string `json:"subject,omitempty"`
	Fix     *Fix   `json:"fix,omitempty"`
}

// Report is every finding, in the order checked.
type Report struct {
	// Version is the mynakit that ran the checks (set by the caller).
	Version  string    `json:"version,omitempty"`
	Findings []Finding `json:"findings"`
}

// Worst is the most serious status in r (OK when all passed or skipped).
func (r Report) Worst() Status {
	w := OK
	for _, f := range r.Findings {
		switch {
		case f.Status == Fail:
			return Fail
		case f.Status == Warn:
			w = Warn
		}
	}
	return w
}

// Find returns the findings of one check.
func (r Report) Find(c Check) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Check == c {
			out = append(out, f)
		}
	}
	return out
}

// ServiceState is what the PC/SC service probe saw.
type ServiceState struct {
	Running bool
	Name    string // "pcscd", "SCardSvr"
	Detail  string // how it was seen (socket path, service state)
}

// Reader is one PC/SC reader.
type Reader struct {
	Name        string
	Driver      string // the driver serving it ("" when unknown)
	CardPresent bool
	ATR         []byte
}

// BridgeInfo is what the bridge answered.
type BridgeInfo struct {
	URL        string
	APIVersion string
}

// Anchor is one trust anchor with its validity.
type Anchor struct {
	Name                string
	Production          bool
	NotBefore, NotAfter time.Time
}

// LogState is the access log's verification.
type LogState struct {
	Path     string
	Entries  int
	Problems []string // kind and entry number only, never the entry
}

// Probes are the doctor's eyes. A nil probe skips its check.
type Probes struct {
	PCSCService func(context.Context) ServiceState
	Readers     func(context.Context) ([]Reader, error)
	RuntimeDir  func() (string, error)
	CheckDir    func(string) error // rundir.Check
	Bridge      func(context.Context) (BridgeInfo, error)
	// BrowserPolicies returns the browsers' managed policy files (path →
	// content); nil when policies cannot be read on this platform.
	BrowserPolicies func() (map[string][]byte, error)
	Now             func() time.Time
	Anchors         func() ([]Anchor, error)
	AccessLog       func() (LogState, error)
}

// Run runs every check whose probe is set.
func Run(ctx context.Context, p Probes) Report {
	var r Report
	add := func(f ...Finding) { r.Findings = append(r.Findings, f...) }
	serviceUp := true
	if p.PCSCService != nil {
		f, up := checkService(p.PCSCService(ctx))
		serviceUp = up
		add(f)
	}
	if p.Readers != nil {
		if serviceUp {
			add(checkReaders(p.Readers(ctx))...)
		} else {
			add(Finding{Check: CheckReaders, Status: Skip, Message: "PC/SC service not running; readers not listed"})
		}
	}
	if p.RuntimeDir != nil && p.CheckDir != nil {
		add(checkRuntimeDir(p.RuntimeDir, p.CheckDir))
	}
	if p.Bridge != nil {
		add(checkBridge(p.Bridge(ctx)))
	}
	if p.BrowserPolicies != nil {
		add(checkPolicies(p.BrowserPolicies())...)
	}
	if p.Anchors != nil {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		as, err := p.Anchors()
		add(checkAnchors(now(), as, err)...)
	}
	if p.AccessLog != nil {
		add(checkAccessLog(p.AccessLog()))
	}
	return r
}

func checkService(s ServiceState) (Finding, bool) {
	name := s.Name
	if name == "" {
		name = "PC/SC"
	}
	if s.Running {
		return Finding{Check: CheckPCSCService, Status: OK, Subject: name, Message: fmt.Sprintf("%s is running (%s)", name, s.Detail)}, true
	}
	fix := Fix{
		JA: "スマートカードサービス pcscd を起動してください: sudo apt install pcscd && sudo systemctl enable --now pcscd.socket",
		EN: "Start the smart-card service: sudo apt install pcscd && sudo systemctl enable --now pcscd.socket",
	}
	if name == "SCardSvr" {
		fix = Fix{
			JA: "Windows の「Smart Card」サービス (SCardSvr) を起動し、スタートアップの種類を「自動」にしてください (services.msc)。",
			EN: "Start the Windows \"Smart Card\" service (SCardSvr) and set its startup type to Automatic (services.msc).",
		}
	}
	return Finding{Check: CheckPCSCService, Status: Fail, Subject: name, Message: fmt.Sprintf("%s is not running (%s)", name, s.Detail), Fix: &fix}, false
}

func checkReaders(rs []Reader, err error) []Finding {
	if err != nil {
		return []Finding{{Check: CheckReaders, Status: Fail, Message: "readers could not be listed: " + err.Error(), Fix: &Fix{
			JA: "pcscd を再起動してください (sudo systemctl restart pcscd)。直らなければ mynakit doctor --json の結果を窓口に送ってください。",
			EN: "Restart pcscd (sudo systemctl restart pcscd); if that does not help, send the output of mynakit doctor --json to support.",
		}}}
	}
	if len(rs) == 0 {
		return []Finding{{Check: CheckReaders, Status: Fail, Message: "no card reader is connected", Fix: &Fix{
			JA: "カードリーダーを USB に接続し直してください。それでも表示されないときは、リーダーのドライバー (Debian では libccid) を入れて pcscd を再起動してください。",
			EN: "Plug the card reader in again. If it still does not appear, install its driver (libccid on Debian) and restart pcscd.",
		}}}
	}
	var out []Finding
	for _, r := range rs {
		drv := r.Driver
		if drv == "" {
			drv = "unknown driver"
		}
		out = append(out, Finding{Check: CheckReaders, Status: OK, Subject: r.Name, Message: fmt.Sprintf("reader %q (driver: %s)", r.Name, drv)})
		out = append(out, checkCard(r))
	}
	return out
}

// KnownATRs are the Individual Number Card's ATRs seen in the field (card
// reference §7.1): the contact ATRs of its generations, and the
// contactless ones readers synthesise from its ATQB.
var KnownATRs = map[string]string{
	"3BE000FF8131FE4514":                     "My Number Card, contact",
	"3BC5FF8131FB458073C6010000":             "My Number Card, contact",
	"3BDA13FF8131FB468012392F31C173C601C03B": "My Number Card, contact (chaining, extended length)",
	"3B888001000005E0B381A1007F":             "My Number Card, contactless",
	"3B888001000041E0B381A1003B":             "My Number Card, contactless",
	"3B888001004B51FFB381D1000F":             "My Number Card, contactless",
	"3BF59100FF918171FE400042000100D1D6":     "My Number Card, contactless",
	"3BF59100FF918171FE4000420001B3A115":     "My Number Card, contactless",
	"3B888001000014E0B38191005E":             "住基カード (Basic Resident Register card), contactless",
}

// RecogniseATR names a known ATR, or "".
func RecogniseATR(atr []byte) string {
	return KnownATRs[strings.ToUpper(hex.EncodeToString(atr))]
}

func checkCard(r Reader) Finding {
	if !r.CardPresent {
		return Finding{Check: CheckCard, Status: Skip, Subject: r.Name, Message: "no card in this reader"}
	}
	atr := strings.ToUpper(hex.EncodeToString(r.ATR))
	if name := RecogniseATR(r.ATR); name != "" {
		if strings.HasPrefix(name, "住基") {
			return Finding{Check: CheckCard, Status: Warn, Subject: r.Name, Message: fmt.Sprintf("ATR %s: %s, not an Individual Number Card", atr, name), Fix: &Fix{
				JA: "住基カードではなくマイナンバーカードを置いてください。",
				EN: "Place an Individual Number Card, not a Basic Resident Register card.",
			}}
		}
		return Finding{Check: CheckCard, Status: OK, Subject: r.Name, Message: fmt.Sprintf("ATR %s: %s", atr, name)}
	}
	return Finding{Check: CheckCard, Status: Warn, Subject: r.Name, Message: fmt.Sprintf("ATR %s is not a known Individual Number Card ATR", atr), Fix: &Fix{
		JA: "マイナンバーカードか確認し、置き直してください。mynakit はカードを ATR ではなくアプレットの選択で見分けるので、読めることもあります。読めないときはこの ATR を添えてサポートに連絡してください。",
		EN: "Check that this is an Individual Number Card and place it again. mynakit recognises the card by selecting its applets, not by ATR, so it may still read; if it does not, report this ATR to support.",
	}}
}

// goos selects platform-specific fixes (a variable so tests can choose).
var goos = runtime.GOOS

func checkRuntimeDir(dir func() (string, error), check func(string) error) Finding {
	d, err := dir()
	if err != nil {
		return Finding{Check: CheckRuntimeDir, Status: Fail, Message: "no per-user runtime directory: " + err.Error(), Fix: &Fix{
			JA: "ユーザーとしてログインし直してください (XDG_RUNTIME_DIR が設定されていません)。",
			EN: "Log in again as the user (XDG_RUNTIME_DIR is not set).",
		}}
	}
	err = check(d)
	switch {
	case err == nil:
		return Finding{Check: CheckRuntimeDir, Status: OK, Subject: d, Message: "owned by this user, mode 0700"}
	case errors.Is(err, fs.ErrNotExist):
		return Finding{Check: CheckRuntimeDir, Status: OK, Subject: d, Message: "not created yet (the bridge creates it, mode 0700, when it starts)"}
	case errors.Is(err, rundir.ErrMode):
		fix := &Fix{
			JA: fmt.Sprintf("ブリッジを止めてから、このフォルダを削除するか権限を直してください: chmod 700 %q (ブリッジは作り直します)。", d),
			EN: fmt.Sprintf("Stop the bridge, then remove this folder or fix its mode: chmod 700 %q (the bridge recreates it).", d),
		}
		if goos == "windows" {
			fix = &Fix{
				JA: fmt.Sprintf("ブリッジを止めてから、このフォルダを削除してください (ブリッジが本人だけのアクセス権で作り直します): %s", d),
				EN: fmt.Sprintf("Stop the bridge, then delete this folder (the bridge recreates it with access for this user alone): %s", d),
			}
		}
		return Finding{Check: CheckRuntimeDir, Status: Fail, Subject: d, Message: "the directory lets other users in: " + err.Error(), Fix: fix}
	case errors.Is(err, rundir.ErrOwner):
		return Finding{Check: CheckRuntimeDir, Status: Fail, Subject: d, Message: "the directory belongs to another user: " + err.Error(), Fix: &Fix{
			JA: "他のユーザーのフォルダです。管理者に削除を依頼してください (起動の秘密を盗まれるおそれがあります)。",
			EN: "The folder belongs to another user; have an administrator remove it (it could be used to steal the launch secret).",
		}}
	default:
		return Finding{Check: CheckRuntimeDir, Status: Fail, Subject: d, Message: err.Error(), Fix: &Fix{
			JA: "このパスはフォルダではないかシンボリックリンクです。管理者に削除を依頼してください。",
			EN: "The path is not a plain directory (or is a symbolic link); have an administrator remove it.",
		}}
	}
}

func checkBridge(b BridgeInfo, err error) Finding {
	if err != nil {
		fix := &Fix{
			JA: "ブリッジを起動してください: systemctl --user enable --now mynakit.socket (パッケージで入れた場合)、または mynakit serve。",
			EN: "Start the bridge: systemctl --user enable --now mynakit.socket (when installed from the package), or run mynakit serve.",
		}
		switch goos {
		case "windows":
			fix = &Fix{
				JA: `ブリッジはサインイン時に起動します。サインインし直すか、%LOCALAPPDATA%\Programs\mynakit\mynakitw.exe serve を実行してください。`,
				EN: `The bridge starts at sign-in: sign out and in, or run %LOCALAPPDATA%\Programs\mynakit\mynakitw.exe serve.`,
			}
		case "darwin":
			fix = &Fix{
				JA: "launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/org.mynakit.bridge.plist を実行するか、mynakit serve を実行してください。",
				EN: "Run launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/org.mynakit.bridge.plist, or mynakit serve.",
			}
		}
		return Finding{Check: CheckBridge, Status: Fail, Subject: b.URL, Message: "the bridge does not answer: " + err.Error(), Fix: fix}
	}
	return Finding{Check: CheckBridge, Status: OK, Subject: b.URL, Message: fmt.Sprintf("the bridge answers (API version %s)", b.APIVersion)}
}
