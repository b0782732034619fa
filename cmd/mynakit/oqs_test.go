package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runIn runs the CLI in process with ctx and returns stdout, stderr and
// the exit code.
func runIn(ctx context.Context, out, errw *syncBuffer, args ...string) int {
	root := newRootCmd(strings.NewReader(""), out, errw)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			errw.Write([]byte(ee.err.Error()))
		}
		return ee.code
	}
	errw.Write([]byte(err.Error()))
	return exitUsageOrCard
}

// startSim runs "mynakit sim oqs" in the background until the test ends.
func startSim(t *testing.T, root string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errw syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runIn(ctx, &out, &errw, append([]string{"sim", "oqs", "--root", root, "--poll", "10ms"}, args...)...)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sim oqs exited %d: %s", code, errw.String())
		}
	})
	waitFor(t, 10*time.Second, "the simulated terminal's folders", func() bool {
		_, err := os.Stat(filepath.Join(root, "trash"))
		return err == nil
	})
	return &errw
}

// waitFor polls cond until it holds; the deadline only bounds a broken run.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type confirmOut struct {
	Job            string `json:"job"`
	Resumed        bool   `json:"resumed"`
	Pending        bool   `json:"pending"`
	Outcome        string `json:"outcome"`
	Success        bool   `json:"success"`
	Encoding       string `json:"encoding"`
	FileID         string `json:"file_identifier"`
	Validity       struct{ Code, Ja, En string }
	Warnings       []string
	Qualifications []struct {
		InsurerNumber      string                `json:"insurer_number"`
		Branch             string                `json:"branch"`
		Name               string                `json:"name"`
		CardClassification struct{ Code string } `json:"card_classification"`
		ContributionRatio  *struct {
			Code  string
			Label string
		} `json:"contribution_ratio"`
		ElderlyRecipient *struct {
			ContributionRatio struct{ Label string } `json:"contribution_ratio"`
		} `json:"elderly_recipient"`
		Limit *struct {
			Category struct{ Code, Ja string }
		} `json:"limit"`
		SpecificDiseases []struct {
			Category   struct{ Code string }
			SelfPayYen string `json:"self_pay_yen"`
		} `json:"specific_diseases"`
		DiseasesConsent *struct{ Flag struct{ Code string } } `json:"specific_diseases_consent"`
		MedicalTickets  []struct {
			IssueNumber string `json:"issue_number"`
		} `json:"medical_tickets"`
	} `json:"qualifications"`
}

// patient is one scenario of the built-in file and what confirm must say.
type patient struct {
	scenario string
	args     []string
	exit     int
	validity string
	check    func(t *testing.T, o confirmOut)
}

func one(t *testing.T, o confirmOut) {
	t.Helper()
	if len(o.Qualifications) != 1 {
		t.Fatalf("%d qualifications", len(o.Qualifications))
	}
}

var patients = []patient{
	{"valid", []string{"--insurer", "01130012", "--symbol", "1234", "--number", "56", "--branch", "00", "--birth", "19850412"}, 0, "1", func(t *testing.T, o confirmOut) {
		one(t, o)
		q := o.Qualifications[0]
		if q.Name != "模擬　太郎" || q.ContributionRatio.Label != "3割" || q.Branch != "00" || q.InsurerNumber != "01130012" {
			t.Errorf("%+v", q)
		}
	}},
	{"invalid", []string{"--insurer", "06270019", "--symbol", "ｶｲｼｬ", "--number", "7", "--branch", "01", "--birth", "1990-09-23"}, 1, "2", nil},
	{"invalid-newer", []string{"--insurer", "06270019", "--symbol", "ｶｲｼｬ", "--number", "8", "--branch", "00", "--birth", "19750105"}, 1, "3", nil},
	{"not-found", []string{"--insurer", "138990", "--symbol", "ﾐﾄｳﾛｸ", "--number", "404", "--branch", "00", "--birth", "20000101"}, 2, "4", func(t *testing.T, o confirmOut) {
		if len(o.Qualifications) != 0 {
			t.Errorf("%+v", o.Qualifications)
		}
	}},
	{"unknown patient", []string{"--insurer", "138990", "--number", "1", "--birth", "20000101"}, 2, "4", nil},
	{"multiple", []string{"--insurer", "01130012", "--symbol", "1234", "--number", "90", "--birth", "20100808"}, 1, "5", func(t *testing.T, o confirmOut) {
		if len(o.Qualifications) != 2 || o.Qualifications[0].Branch == o.Qualifications[1].Branch {
			t.Errorf("%+v", o.Qualifications)
		}
	}},
	{"kouki", []string{"--insurer", "39130017", "--number", "12345678", "--birth", "19440210"}, 0, "1", func(t *testing.T, o confirmOut) {
		one(t, o)
		if r := o.Qualifications[0].ContributionRatio; r == nil || r.Code != "010" || r.Label != "1割" {
			t.Errorf("後期高齢者 ratio %+v", r)
		}
	}},
	{"elderly", []string{"--insurer", "138016", "--symbol", "ﾓｷﾞ", "--number", "3030", "--branch", "00", "--birth", "19530615"}, 0, "1", func(t *testing.T, o confirmOut) {
		one(t, o)
		q := o.Qualifications[0]
		if q.InsurerNumber != "138016" || q.ElderlyRecipient == nil || q.ElderlyRecipient.ContributionRatio.Label != "2割" {
			t.Errorf("高齢受給者証 %+v", q)
		}
	}},
	{"limit", []string{"--insurer", "01130012", "--symbol", "1234", "--number", "77", "--branch", "01", "--birth", "19781130", "--limit-consent"}, 0, "1", func(t *testing.T, o confirmOut) {
		one(t, o)
		if l := o.Qualifications[0].Limit; l == nil || l.Category.Code != "A03" || l.Category.Ja != "ウ" {
			t.Errorf("限度額 %+v", l)
		}
	}},
	{"limit without consent", []string{"--insurer", "01130012", "--symbol", "1234", "--number", "77", "--branch", "01", "--birth", "19781130"}, 0, "1", func(t *testing.T, o confirmOut) {
		one(t, o)
		if l := o.Qualifications[0].Limit; l != nil {
			t.Errorf("限度額 sent without consent: %+v", l)
		}
	}},
	{"specific-disease", []string{"--insurer", "06130028", "--symbol", "50", "--number", "208", "--branch", "00", "--birth", "19670301"}, 0, "1", func(t *testing.T, o confirmOut) {
		one(t, o)
		q := o.Qualifications[0]
		if len(q.SpecificDiseases) != 1 || q.SpecificDiseases[0].Category.Code != "1" || q.SpecificDiseases[0].SelfPayYen != "10000" || q.DiseasesConsent == nil || q.DiseasesConsent.Flag.Code != "1" {
			t.Errorf("特定疾病 %+v", q)
		}
	}},
	{"welfare", []string{"--insurer", "12130015", "--number", "1234567", "--birth", "19600720"}, 0, "1", func(t *testing.T, o confirmOut) {
		one(t, o)
		q := o.Qualifications[0]
		if q.CardClassification.Code != "A1" || len(q.MedicalTickets) != 1 || q.MedicalTickets[0].IssueNumber != "0001" {
			t.Errorf("医療扶助 %+v", q)
		}
	}},
}

const testClinic = "1312345678"

func confirm(t *testing.T, root, state string, extra ...string) (confirmOut, string, int) {
	t.Helper()
	var out, errw syncBuffer
	args := append([]string{"oqs", "confirm", "--root", root, "--mic", testClinic, "--state", state, "--poll", "10ms", "--json"}, extra...)
	code := runIn(context.Background(), &out, &errw, args...)
	var o confirmOut
	if err := json.Unmarshal([]byte(out.String()), &o); err != nil {
		t.Fatalf("%v: not JSON (%v): %q\nstderr: %s", args, err, out.String(), errw.String())
	}
	return o, errw.String(), code
}

// TestConfirmAgainstSimulatedTerminal runs oqs confirm against sim oqs for
// every scenario kind, in both encodings, under every fault that still
// lets the terminal answer.
func TestConfirmAgainstSimulatedTerminal(t *testing.T) {
	faults := map[string][]string{
		"none":          nil,
		"latency":       {"--latency", "150ms"},
		"slow-write":    {"--slow-write", "15ms", "--slow-chunk", "400"},
		"shuffle":       {"--shuffle"},
		"omit-optional": {"--omit-optional"},
		"duplicate":     {"--duplicate"},
		"move-away":     {"--move-away"},
	}
	for _, enc := range []string{"utf-8", "shift_jis"} {
		for fault, fargs := range faults {
			t.Run(enc+"/"+fault, func(t *testing.T) {
				t.Parallel()
				root, state := t.TempDir(), t.TempDir()
				startSim(t, root, append([]string{"--encoding", enc}, fargs...)...)
				for _, p := range patients {
					o, errs, code := confirm(t, root, state, append(p.args, "--timeout", "60s")...)
					if code != p.exit || o.Validity.Code != p.validity {
						t.Errorf("%s: exit %d validity %q (%s), want exit %d validity %s; stderr %s", p.scenario, code, o.Validity.Code, o.Outcome, p.exit, p.validity, errs)
						continue
					}
					wantEnc := map[string]string{"utf-8": "UTF-8", "shift_jis": "Shift_JIS"}[enc]
					if o.Encoding != wantEnc || len(o.Warnings) != 0 || o.Resumed {
						t.Errorf("%s: encoding %s warnings %v resumed %v", p.scenario, o.Encoding, o.Warnings, o.Resumed)
					}
					if p.check != nil {
						t.Run(p.scenario, func(t *testing.T) { p.check(t, o) })
					}
				}
				// One request a confirm, each consumed: nothing left in req.
				reqs, _ := os.ReadDir(filepath.Join(root, "req"))
				res, _ := os.ReadDir(filepath.Join(root, "res"))
				trash, _ := os.ReadDir(filepath.Join(root, "trash"))
				if len(reqs) != 0 || len(res)+len(trash) != len(patients) {
					t.Errorf("req %d files, res+trash %d, want 0 and %d", len(reqs), len(res)+len(trash), len(patients))
				}
			})
		}
	}
}

func TestConfirmHumanOutput(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	startSim(t, root)
	var out, errw syncBuffer
	code := runIn(context.Background(), &out, &errw, append([]string{"oqs", "confirm", "--root", root, "--mic", testClinic, "--state", state, "--poll", "10ms"}, patients[8].args...)...)
	s := out.String()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	for _, want := range []string{"有効 valid (1)", "一部負担金割合 contribution", "3割 (030)", "限度額適用区分 limit category", "ウ category u (A03)", "上限　直美"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
}

// TestTimeoutLeavesJobResumable: with no terminal answering, confirm ends
// in a timeout (exit 4) and leaves its job pending; running it again sends
// nothing new; once the terminal answers, the same command reads the
// answer to the first request.
func TestTimeoutLeavesJobResumable(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	for _, d := range []string{"req", "res", "face"} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	args := append(patients[0].args, "--timeout", "200ms")
	o, errs, code := confirm(t, root, state, args...)
	if code != exitOQSTimeout || !o.Pending || o.Job == "" || !strings.Contains(errs, "not sent again") {
		t.Fatalf("exit %d %+v: %s", code, o, errs)
	}
	reqs := func() []string {
		ents, _ := os.ReadDir(filepath.Join(root, "req"))
		var n []string
		for _, e := range ents {
			n = append(n, e.Name())
		}
		return n
	}
	if r := reqs(); len(r) != 1 || r[0] != o.Job {
		t.Fatalf("req holds %v", r)
	}
	o2, _, code := confirm(t, root, state, args...)
	if code != exitOQSTimeout || o2.Job != o.Job {
		t.Fatalf("second run: exit %d job %s", code, o2.Job)
	}
	if r := reqs(); len(r) != 1 {
		t.Fatalf("second run resubmitted: %v", r)
	}
	var jobs, jerr syncBuffer
	if code := runIn(context.Background(), &jobs, &jerr, "oqs", "jobs", "--root", root, "--mic", testClinic, "--state", state); code != 0 || !strings.Contains(jobs.String(), o.Job) || !strings.Contains(jobs.String(), "published") {
		t.Errorf("jobs: %d %s %s", code, jobs.String(), jerr.String())
	}
	// The terminal comes up and answers the waiting request.
	startSim(t, root)
	o3, errs, code := confirm(t, root, state, append(patients[0].args, "--timeout", "60s")...)
	if code != 0 || o3.Job != o.Job || !o3.Resumed || !o3.Success {
		t.Fatalf("after the terminal answered: exit %d %+v %s", code, o3, errs)
	}
	res, _ := os.ReadDir(filepath.Join(root, "res"))
	if len(res) != 1 {
		t.Errorf("res holds %d results, want the one answer", len(res))
	}
}

// TestNeverAnswering: a terminal that consumes the request and never
// answers gives a clear timeout, and the job stays pending.
func TestNeverAnswering(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	startSim(t, root, "--never-answer")
	o, errs, code := confirm(t, root, state, append(patients[0].args, "--timeout", "500ms")...)
	if code != exitOQSTimeout || !o.Pending || !strings.Contains(errs, "no result for "+o.Job) {
		t.Fatalf("exit %d %+v: %s", code, o, errs)
	}
	// The request was consumed, not re-sent by a second run.
	o2, _, code := confirm(t, root, state, append(patients[0].args, "--timeout", "300ms")...)
	if code != exitOQSTimeout || o2.Job != o.Job {
		t.Fatalf("second run: %d %s", code, o2.Job)
	}
	// --new gives the old job up and asks anew.
	o3, _, code := confirm(t, root, state, append(patients[0].args, "--timeout", "300ms", "--new")...)
	if code != exitOQSTimeout || o3.Job == o.Job {
		t.Fatalf("--new: %d %s", code, o3.Job)
	}
}

func TestConfirmUsageErrors(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	for _, d := range []string{"req", "res"} {
		os.Mkdir(filepath.Join(root, d), 0o755)
	}
	var out, errw syncBuffer
	code := runIn(context.Background(), &out, &errw, "oqs", "confirm", "--root", root, "--mic", testClinic, "--state", state, "--insurer", "1", "--number", "1", "--birth", "19800101")
	if code != exitOQSError || !strings.Contains(errw.String(), "insurer number") {
		t.Errorf("%d %s", code, errw.String())
	}
	code = runIn(context.Background(), &out, &errw, "oqs", "confirm", "--root", root, "--mic", testClinic, "--state", state, "--insurer", "138990", "--symbol", "𠮷", "--number", "1", "--birth", "19800101")
	if code != exitOQSError || !strings.Contains(errw.String(), "cannot be written in Shift_JIS") {
		t.Errorf("%d %s", code, errw.String())
	}
}

// TestWatchUnderFaults: oqs watch reports every face file once, whether it
// is written slowly, moved away while being read, duplicated, shuffled or
// in Shift_JIS.
func TestWatchUnderFaults(t *testing.T) {
	root := t.TempDir()
	startSim(t, root) // makes the folders; answers nothing here
	ctx, cancel := context.WithCancel(context.Background())
	var out, errw syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runIn(ctx, &out, &errw, "oqs", "watch", "--root", root, "--json", "--interval", "50ms", "--card-name", "模擬 太郎", "--card-birth", "1985-04-12")
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("watch exited %d: %s", code, errw.String())
		}
	}()
	faces := []struct {
		scenario, name string
		args           []string
	}{
		{"valid", "模擬　太郎", nil},
		{"kouki", "長寿　梅", []string{"--slow-write", "20ms", "--slow-chunk", "150"}},
		{"elderly", "古希　健", []string{"--move-away", "--move-after", "40ms"}},
		{"limit", "上限　直美", []string{"--duplicate"}},
		{"specific-disease", "透析　守", []string{"--shuffle", "--encoding", "shift_jis"}},
		{"welfare", "扶助　和夫", []string{"--omit-optional"}},
		{"invalid", "試行　花子", []string{"--slow-write", "10ms", "--move-away"}},
	}
	for _, f := range faces {
		var o, e syncBuffer
		if code := runIn(context.Background(), &o, &e, append([]string{"sim", "oqs", "face", "--root", root, "--scenario", f.scenario}, f.args...)...); code != 0 {
			t.Fatalf("face %s: %d %s", f.scenario, code, e.String())
		}
	}
	lines := func() []string {
		s := strings.TrimSpace(out.String())
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	waitFor(t, 60*time.Second, "every face file to be reported", func() bool { return len(lines()) >= len(faces) })
	// A last file, then wait for it: whatever came before it has been seen
	// by the scans that reported it.
	var o, e syncBuffer
	runIn(context.Background(), &o, &e, "sim", "oqs", "face", "--root", root, "--scenario", "multiple")
	waitFor(t, 60*time.Second, "the last face file", func() bool { return strings.Contains(out.String(), "双子") })
	got := lines()
	if len(got) != len(faces)+1 {
		t.Fatalf("%d reports for %d files:\n%s", len(got), len(faces)+1, out.String())
	}
	seen := map[string]bool{}
	for i, l := range got {
		var r struct {
			File, Error, Note string
			Eligibility       *struct {
				Outcome        string
				Qualifications []struct{ Name string }
			}
			Disagreements []struct{ Field string }
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if r.Error != "" || r.Eligibility == nil || len(r.Eligibility.Qualifications) == 0 {
			t.Fatalf("line %d: %s", i, l)
		}
		name := r.Eligibility.Qualifications[0].Name
		if seen[name] || seen[r.File] {
			t.Errorf("reported twice: %s", name)
		}
		seen[name], seen[r.File] = true, true
		if name == "模擬　太郎" && len(r.Disagreements) != 0 {
			t.Errorf("the card's holder disagrees with their own result: %+v", r.Disagreements)
		}
		if name == "長寿　梅" && len(r.Disagreements) == 0 {
			t.Errorf("another person's result matched the card")
		}
	}
	for _, f := range faces {
		if !seen[f.name] {
			t.Errorf("%s (%s) not reported", f.scenario, f.name)
		}
	}
}

func TestShowDecodesFiles(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	startSim(t, root, "--encoding", "shift_jis")
	if _, _, code := confirm(t, root, state, patients[7].args...); code != 0 {
		t.Fatal(code)
	}
	res, _ := os.ReadDir(filepath.Join(root, "res"))
	var out, errw syncBuffer
	if code := runIn(context.Background(), &out, &errw, "oqs", "show", filepath.Join(root, "res", res[0].Name())); code != 0 || !strings.Contains(out.String(), "古希　健") || !strings.Contains(out.String(), "高齢受給者証") {
		t.Errorf("show: %d %s %s", code, out.String(), errw.String())
	}
	bad := filepath.Join(t.TempDir(), "notes.xml")
	os.WriteFile(bad, []byte("<XmlMsg/>"), 0o644)
	out, errw = syncBuffer{}, syncBuffer{}
	if code := runIn(context.Background(), &out, &errw, "oqs", "show", bad); code != exitOQSError || !strings.Contains(errw.String(), "unknown file-name prefix") {
		t.Errorf("unknown prefix: %d %s", code, errw.String())
	}
	dtd := filepath.Join(t.TempDir(), "OQSsiquc01res_202503010001.xml")
	os.WriteFile(dtd, []byte(`<!DOCTYPE XmlMsg SYSTEM "http://example.invalid/x.dtd"><XmlMsg/>`), 0o644)
	out, errw = syncBuffer{}, syncBuffer{}
	if code := runIn(context.Background(), &out, &errw, "oqs", "show", dtd); code != exitOQSError || !strings.Contains(errw.String(), "DTD") {
		t.Errorf("DTD: %d %s", code, errw.String())
	}
	if _, err := os.Stat(dtd); err != nil {
		t.Error("the bad file was not left in place")
	}
}
