package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// LNAPolicies are the Chromium policies that decide whether a web page may
// reach the bridge on 127.0.0.1 (Local Network Access), strongest first.
var LNAPolicies = []string{
	"LoopbackNetworkBlockedForUrls",
	"LoopbackNetworkAllowedForUrls",
	"LocalNetworkBlockedForUrls",
	"LocalNetworkAllowedForUrls",
	"LocalNetworkAccessBlockedForUrls",
	"LocalNetworkAccessAllowedForUrls",
	"LocalNetworkAccessRestrictionsEnabled",
}

// maxPolicyFile bounds what is parsed of one policy file.
const maxPolicyFile = 1 << 20

func checkPolicies(files map[string][]byte, err error) []Finding {
	if err != nil {
		return []Finding{{Check: CheckBrowserPolicy, Status: Skip, Message: "browser policies could not be read: " + err.Error()}}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []Finding
	for _, p := range paths {
		b := files[p]
		if len(b) > maxPolicyFile {
			out = append(out, Finding{Check: CheckBrowserPolicy, Status: Warn, Subject: p, Message: "policy file too large to read"})
			continue
		}
		var pol map[string]json.RawMessage
		if err := json.Unmarshal(b, &pol); err != nil {
			out = append(out, Finding{Check: CheckBrowserPolicy, Status: Warn, Subject: p, Message: "not valid JSON; the browser ignores this file", Fix: &Fix{
				JA: "管理者にこのポリシーファイルの書式を直してもらってください。",
				EN: "Have an administrator fix this policy file's JSON.",
			}})
			continue
		}
		var set []string
		blocked := false
		for _, name := range LNAPolicies {
			v, ok := pol[name]
			if !ok {
				continue
			}
			set = append(set, fmt.Sprintf("%s=%s", name, compact(v)))
			if strings.HasSuffix(name, "BlockedForUrls") {
				blocked = true
			}
		}
		switch {
		case len(set) == 0:
			continue
		case blocked:
			out = append(out, Finding{Check: CheckBrowserPolicy, Status: Warn, Subject: p, Message: "Local Network Access blocked for some sites: " + strings.Join(set, "; "), Fix: &Fix{
				JA: "業務サイトのオリジンがブロック対象なら、管理者に LoopbackNetworkAllowedForUrls (または LocalNetworkAccessAllowedForUrls) へ追加し、ブロック一覧から外すよう依頼してください。",
				EN: "If the business site's origin is blocked, have an administrator remove it from the blocked list and add it to LoopbackNetworkAllowedForUrls (or LocalNetworkAccessAllowedForUrls).",
			}})
		default:
			out = append(out, Finding{Check: CheckBrowserPolicy, Status: OK, Subject: p, Message: "Local Network Access policy: " + strings.Join(set, "; ")})
		}
	}
	if len(out) == 0 {
		out = append(out, Finding{Check: CheckBrowserPolicy, Status: OK, Message: "no managed Local Network Access policy; the browser asks the user the first time a site reaches the bridge"})
	}
	return out
}

// compact shortens a policy value for one line.
func compact(v json.RawMessage) string {
	s := strings.Join(strings.Fields(string(v)), "")
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// soon is how close an expiry must be to be mentioned.
const soon = 90 * 24 * time.Hour

func checkAnchors(now time.Time, as []Anchor, err error) []Finding {
	if err != nil {
		return []Finding{{Check: CheckAnchors, Status: Fail, Message: "trust anchors could not be loaded: " + err.Error(), Fix: &Fix{
			JA: "--trust-dir のフォルダを確認するか、mynakit を入れ直してください。",
			EN: "Check the --trust-dir folders, or reinstall mynakit.",
		}}}
	}
	if len(as) == 0 {
		return []Finding{{Check: CheckAnchors, Status: Fail, Message: "no trust anchor is loaded; no card can be verified", Fix: &Fix{
			JA: "mynakit を入れ直してください。",
			EN: "Reinstall mynakit.",
		}}}
	}
	var out []Finding
	current, future := 0, 0
	for _, a := range as {
		switch {
		case a.NotAfter.IsZero(): // a bare key (CV CA key): no validity
			current++
		case now.Before(a.NotBefore):
			future++
		case now.After(a.NotAfter):
			out = append(out, Finding{Check: CheckAnchors, Status: OK, Subject: a.Name, Message: "expired " + a.NotAfter.Format("2006-01-02") + " (kept for cards it issued)"})
		default:
			current++
			if a.NotAfter.Sub(now) < soon {
				out = append(out, Finding{Check: CheckAnchors, Status: Warn, Subject: a.Name, Message: "expires " + a.NotAfter.Format("2006-01-02"), Fix: &Fix{
					JA: "mynakit を新しい版に更新してください (新しい J-LIS の鍵が入ります)。",
					EN: "Update mynakit (newer releases carry J-LIS's new keys).",
				}})
			}
		}
	}
	out = append([]Finding{{Check: CheckAnchors, Status: OK, Message: fmt.Sprintf("%d trust anchors loaded, %d valid now", len(as), current)}}, out...)
	// The clock: certificates not valid yet while the anchors that issued
	// them are, or every anchor expired, mean the PC's clock is wrong.
	switch {
	case current == 0 && future > 0:
		out = append(out, Finding{Check: CheckClock, Status: Fail, Message: fmt.Sprintf("the clock reads %s, before every anchor's validity", now.Format(time.RFC3339)), Fix: &Fix{
			JA: "PC の日付と時刻を正しく合わせてください (時刻の自動同期を有効に)。",
			EN: "Set the PC's date and time correctly (turn on automatic time synchronisation).",
		}})
	case current == 0:
		out = append(out, Finding{Check: CheckClock, Status: Fail, Message: fmt.Sprintf("the clock reads %s, after every anchor expired", now.Format(time.RFC3339)), Fix: &Fix{
			JA: "PC の日付と時刻を確認し、mynakit を新しい版に更新してください。",
			EN: "Check the PC's date and time, and update mynakit.",
		}})
	default:
		out = append(out, Finding{Check: CheckClock, Status: OK, Message: fmt.Sprintf("the clock reads %s, within the anchors' validity", now.Format(time.RFC3339))})
	}
	return out
}

func checkAccessLog(s LogState, err error) Finding {
	if errors.Is(err, fs.ErrNotExist) {
		return Finding{Check: CheckAccessLog, Status: Skip, Subject: s.Path, Message: "no access log yet (the bridge starts one when it first runs)"}
	}
	if err != nil {
		return Finding{Check: CheckAccessLog, Status: Warn, Subject: s.Path, Message: "the access log could not be verified: " + err.Error(), Fix: &Fix{
			JA: "ブリッジを一度起動するとアクセス記録が作られます。作られているのに読めないときは、フォルダの権限を確認してください。",
			EN: "The access log is created when the bridge first starts; if it exists but cannot be read, check the folder's permissions.",
		}}
	}
	if len(s.Problems) > 0 {
		return Finding{Check: CheckAccessLog, Status: Fail, Subject: s.Path, Message: fmt.Sprintf("%d entries, damaged: %s", s.Entries, strings.Join(s.Problems, "; ")), Fix: &Fix{
			JA: "アクセス記録が改ざんまたは破損しています。記録をそのまま保管し、管理者に報告してください (mynakit log --verify で詳細)。",
			EN: "The access log was altered or damaged. Keep it as it is and report to the administrator (details: mynakit log --verify).",
		}}
	}
	return Finding{Check: CheckAccessLog, Status: OK, Subject: s.Path, Message: fmt.Sprintf("%d entries, the chain verifies", s.Entries)}
}
