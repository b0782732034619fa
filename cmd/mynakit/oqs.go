package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/oqs"
)

func init() { register(newOQSCmd) }

// Exit status of oqs confirm (oqs/README.md documents them).
const (
	exitOQSValid    = 0 // 有効: one valid qualification
	exitOQSInvalid  = 1 // 無効, 無効（新しい資格あり）, 複数該当, 有効（未登録）
	exitOQSNotFound = 2 // 該当資格なし
	exitOQSError    = 3 // usage, share, file or terminal errors (same as exitUsageOrCard)
	exitOQSTimeout  = 4 // no answer in time; the job stays pending and is resumed by running the same command
)

func exitForOutcome(o oqs.Outcome) int {
	switch o {
	case oqs.OutcomeValid:
		return exitOQSValid
	case oqs.OutcomeInvalid, oqs.OutcomeInvalidNewer, oqs.OutcomeMultiple, oqs.OutcomeValidUnregistered:
		return exitOQSInvalid
	case oqs.OutcomeNotFound:
		return exitOQSNotFound
	}
	return exitOQSError
}

func newOQSCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "oqs",
		Short: "Clinics: オンライン資格確認 through the eligibility terminal's shared folders",
		Long: `Talk to the clinic's 資格確認端末 (online eligibility terminal) through its
shared folders req, res and face: confirm a patient's insurance, watch the
results of cards presented at the face-recognition reader, decode a file.
"mynakit sim oqs" runs a simulated terminal to try it without one.`,
	}
	cmd.AddCommand(newOQSConfirmCmd(a), newOQSWatchCmd(a), newOQSShowCmd(a), newOQSJobsCmd(a))
	return cmd
}

// defaultStateDir is where jobs are kept unless --state says otherwise: a
// local folder, never the share.
func defaultStateDir(mic string) (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no --state and no user config folder: %w", err)
	}
	return filepath.Join(d, "mynakit", "oqs", mic), nil
}

type oqsClientFlags struct {
	root, mic, state, encoding string
	timeout, poll, fileTimeout time.Duration
}

func (f *oqsClientFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.root, "root", "", "the terminal's shared folder (holding req, res, face)")
	fl.StringVar(&f.mic, "mic", "", "the clinic's 10-digit 医療機関コード")
	fl.StringVar(&f.state, "state", "", "local folder for jobs (default: the user config folder, mynakit/oqs/MIC)")
	fl.StringVar(&f.encoding, "encoding", "shift_jis", "encoding of requests: shift_jis or utf-8")
	fl.DurationVar(&f.timeout, "timeout", oqs.DefaultTimeout, "how long to wait for the result")
	fl.DurationVar(&f.poll, "poll", oqs.DefaultPollInterval, "how often res is looked at")
	fl.DurationVar(&f.fileTimeout, "file-timeout", oqs.DefaultFileTimeout, "longest wait for one file operation on the share (a hung share)")
}

func (f *oqsClientFlags) client() (*oqs.Client, error) {
	if f.root == "" || f.mic == "" {
		return nil, errors.New("--root and --mic are required")
	}
	enc, err := oqs.ParseEncoding(f.encoding)
	if err != nil {
		return nil, fmt.Errorf("--encoding: %w", err)
	}
	state := f.state
	if state == "" {
		if state, err = defaultStateDir(f.mic); err != nil {
			return nil, err
		}
	}
	return oqs.NewClient(oqs.Config{Root: f.root, StateDir: state, MedicalInstitutionCode: f.mic, RequestEncoding: enc,
		Timeout: f.timeout, PollInterval: f.poll, FileTimeout: f.fileTimeout})
}

func newOQSConfirmCmd(a *app) *cobra.Command {
	var cf oqsClientFlags
	var req oqs.Request
	var asJSON, fresh bool
	var jobID string
	cmd := &cobra.Command{
		Use:   "confirm --root DIR --mic CODE --insurer N [--symbol S] --number N [--branch B] --birth YYYYMMDD",
		Short: "Ask the terminal whether a patient's insurance is valid, and wait for the answer",
		Long: `Write a 資格確認要求 into DIR/req, wait for its result in DIR/res and print the
eligibility: validity, insurer, contribution ratio, 限度額 category, 特定疾病
and consents, in Japanese with English beside it.

The request is saved as a job (in --state) before it is published. If no
answer comes in time the job stays pending: running the same command again
waits for the same result and sends nothing new. --new gives up the pending
job and asks again; --job ID waits for a given job.

Exit status: 0 valid (有効); 1 not valid (無効, 無効（新しい資格あり）, 複数該当,
有効（未登録）); 2 not found (該当資格なし); 3 error (usage, share, malformed or
foreign result, terminal or service error); 4 timeout (job pending).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return &exitError{code: exitOQSError, err: err}
			}
			ctx := cmd.Context()
			var res *oqs.Result
			switch {
			case jobID != "":
				res, err = c.Resume(ctx, jobID)
			default:
				if fresh {
					if err := c.AbandonPending(req, "--new"); err != nil {
						return &exitError{code: exitOQSError, err: err}
					}
				}
				res, err = c.Confirm(ctx, req)
			}
			var te *oqs.TimeoutError
			if errors.As(err, &te) {
				if asJSON {
					writeJSON(a, oqs.PendingReport(te.Job, err))
				}
				return &exitError{code: exitOQSTimeout, err: err}
			}
			if err != nil {
				return &exitError{code: exitOQSError, err: err}
			}
			e := res.Eligibility()
			if asJSON {
				writeJSON(a, res.Report())
			} else {
				pre := [][2]string{{"要求 request", res.Job.ID}}
				if res.Resumed {
					pre = append(pre, [2]string{"", "前回の要求の結果 result of the earlier request (not sent again)"})
				}
				printEligibility(a.out, e, pre...)
			}
			if code := exitForOutcome(e.Outcome); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&req.InsurerNumber, "insurer", "", "保険者番号 (6 or 8 digits)")
	fl.StringVar(&req.InsuredCardSymbol, "symbol", "", "被保険者証記号")
	fl.StringVar(&req.InsuredIdentificationNumber, "number", "", "被保険者証番号")
	fl.StringVar(&req.InsuredBranchNumber, "branch", "", "枝番 (2 digits)")
	fl.StringVar(&req.Birthdate, "birth", "", "生年月日, YYYYMMDD or YYYY-MM-DD")
	fl.StringVar(&req.Date, "date", "", "資格確認日 the day asked about (default today)")
	fl.BoolVar(&req.LimitConsent, "limit-consent", false, "the patient agreed to share 限度額 information")
	fl.StringVar(&req.ArbitraryIdentifier, "arbitrary-id", "", "a key of yours echoed in the result (e.g. the chart number)")
	fl.BoolVar(&asJSON, "json", false, "print JSON (documented in oqs/README.md)")
	fl.BoolVar(&fresh, "new", false, "give up a pending job for the same question and send a new request")
	fl.StringVar(&jobID, "job", "", "wait for this job (a request file name) instead of asking")
	return cmd
}

func writeJSONLine(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func oqsLabel(c *oqs.Code) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%s %s (%s)", c.Japanese, c.English, c.Value)
}

func oqsRange(from, until string) string {
	switch {
	case from == "" && until == "":
		return ""
	case until == "":
		return from + " –"
	}
	return from + " – " + until
}

// printEligibility prints a result for a person at the counter.
func printEligibility(w io.Writer, e oqs.Eligibility, pre ...[2]string) {
	t := &table{}
	for _, p := range pre {
		t.add(p[0], p[1])
	}
	t.add("資格有効性 validity", oqsLabel(&e.Validity))
	// Two fields, each with its own code table: shown on rows of their own,
	// and the second only when it says something the first did not.
	t.add("処理結果区分 result", oqsLabel(&e.SegmentOfResult))
	if st := oqsLabel(&e.ProcessingStatus); st != "" && st != oqsLabel(&e.SegmentOfResult) {
		t.add("処理状況 status", st)
	}
	if e.ProcessingCode != "" || e.ProcessingMessage != "" {
		t.add("処理結果コード code", strings.TrimSpace(e.ProcessingCode+" "+e.ProcessingMessage))
	}
	if e.ErrorCode != "" || e.ErrorMessage != "" {
		t.add("エラー error", strings.TrimSpace(e.ErrorCode+" "+e.ErrorMessage))
	}
	for _, r := range e.Reasons {
		t.add("理由 reason", r)
	}
	for _, wn := range e.Warnings {
		t.add("注意 warning", wn)
	}
	for i, q := range e.Qualifications {
		if len(e.Qualifications) > 1 {
			t.add("", "")
			t.add(fmt.Sprintf("候補 candidate %d/%d", i+1, len(e.Qualifications)), "")
		}
		name := q.Name
		if q.NameKana != "" {
			name += " (" + q.NameKana + ")"
		}
		t.add("氏名 name", name)
		t.add("生年月日 birth date", q.BirthDate)
		t.add("保険者 insurer", strings.TrimSpace(q.InsurerName+" "+q.InsurerNumber))
		t.add("記号・番号・枝番 card", strings.Join([]string{dash(q.Symbol), dash(q.Number), dash(q.Branch)}, "・"))
		if q.CardClassification != nil {
			t.add("被保険者証区分 card type", oqsLabel(q.CardClassification))
		}
		if q.PersonalFamily != nil {
			t.add("本人・家族 person", oqsLabel(q.PersonalFamily))
		}
		if r := q.ContributionRatio; r != nil {
			t.add("一部負担金割合 contribution", fmt.Sprintf("%s (%s)", r.Label, r.Code))
		}
		if s := oqsRange(q.CardValidFrom, q.CardValidUntil); s != "" {
			t.add("有効期間 card valid", s)
		}
		if q.DisqualifiedOn != "" {
			t.add("資格喪失 lost on", strings.TrimSpace(q.DisqualifiedOn+" "+oqsLabel(q.ReasonOfLoss)))
		}
		if el := q.ElderlyRecipient; el != nil {
			s := oqsRange(el.ValidFrom, el.ValidUntil)
			if el.ContributionRatio != nil {
				s = strings.TrimSpace(el.ContributionRatio.Label + " " + s)
			}
			t.add("高齢受給者証 elderly recipient", s)
		}
		if l := q.Limit; l != nil {
			t.add("限度額適用区分 limit category", oqsLabel(l.Category))
			t.add("限度額認定証 limit certificate", strings.TrimSpace(oqsLabel(l.Certificate)+" "+oqsRange(l.ValidFrom, l.ValidUntil)))
		}
		if c := q.LimitConsent; c != nil {
			t.add("限度額情報の提供同意 limit consent", oqsLabel(&c.Flag))
		}
		for _, d := range q.SpecificDiseases {
			s := oqsLabel(&d.Category)
			if d.SelfPayYen != "" {
				s += ", 自己負担限度額 self-pay limit " + d.SelfPayYen + "円/月"
			}
			t.add("特定疾病 specific disease", strings.TrimSpace(s+" "+oqsRange(d.ValidFrom, d.ValidUntil)))
		}
		if c := q.DiseasesConsent; c != nil {
			t.add("特定疾病情報の提供同意 disease consent", oqsLabel(&c.Flag))
		}
		for _, m := range q.MedicalTickets {
			t.add("医療扶助 medical assistance", strings.TrimSpace(fmt.Sprintf("医療券 ticket %s %s %s", m.TreatmentMonth, oqsRange(m.ValidFrom, m.ValidUntil), m.Institution)))
		}
		for _, c := range q.Consents {
			s := oqsLabel(&c.Flag)
			if c.AvailableUntil != "" {
				s += " until " + c.AvailableUntil
			}
			t.add(c.Japanese+"の閲覧同意 "+c.English, s)
		}
		if q.ReferenceNumber != "" {
			t.add("照会番号 reference number", q.ReferenceNumber)
		}
		if len(q.UnknownElements) > 0 {
			t.add("未知の要素 unknown elements", strings.Join(q.UnknownElements, ", "))
		}
	}
	t.write(w)
}

func newOQSWatchCmd(a *app) *cobra.Command {
	var cfg oqs.WatchConfig
	var asJSON bool
	var card oqs.CardFacts
	cmd := &cobra.Command{
		Use:   "watch --root DIR",
		Short: "Print each face-folder result as it arrives (cards presented at the face-recognition reader)",
		Long: `Scan DIR/face (and DIR/trash, where some EMRs move files) about every second and
print each of today's face-folder results once, after two identical reads.
With --card-name and --card-birth, each result is compared with the card read
at the counter and every disagreement is shown; several candidates are never
chosen between automatically. Runs until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Root == "" {
				return &exitError{code: exitOQSError, err: errors.New("--root is required")}
			}
			w, err := oqs.NewWatcher(cfg)
			if err != nil {
				return &exitError{code: exitOQSError, err: err}
			}
			if !asJSON {
				fmt.Fprintf(a.err, "watching %s (Ctrl-C stops)\n", filepath.Join(cfg.Root, oqs.DirFace))
			}
			err = w.Run(cmd.Context(), func(f oqs.FaceResult) {
				out := oqs.NewFaceReport(f, &card)
				if asJSON {
					writeJSONLine(a.out, out)
					return
				}
				printFace(a.out, out)
			})
			if errors.Is(err, cmd.Context().Err()) {
				return nil
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.Root, "root", "", "the terminal's shared folder (holding face)")
	fl.StringArrayVar(&cfg.AlsoLookIn, "also-look-in", []string{oqs.DirTrash}, "folder where other programs move face files (relative to --root); repeatable")
	fl.DurationVar(&cfg.Interval, "interval", oqs.DefaultScanInterval, "time between scans")
	fl.DurationVar(&cfg.FileTimeout, "file-timeout", oqs.DefaultFileTimeout, "longest wait for one file operation on the share (a hung share)")
	fl.StringVar(&cfg.CopyDir, "copy-dir", "", "keep a private copy of every file reported here")
	fl.BoolVar(&cfg.AllDays, "all-days", false, "take files of any date, not only today's")
	fl.BoolVar(&asJSON, "json", false, "one JSON object a line (documented in oqs/README.md)")
	fl.StringVar(&card.Name, "card-name", "", "name from the card read at the counter, to compare")
	fl.StringVar(&card.Kana, "card-kana", "", "kana reading to compare")
	fl.StringVar(&card.BirthDate, "card-birth", "", "birth date from the card (YYYY-MM-DD), to compare")
	return cmd
}

// printFace prints one face report. Everything from the share — the file
// name above all, which another program chooses — is escaped (safe), so
// escape sequences in a name never reach the terminal.
func printFace(w io.Writer, r oqs.FaceReport) {
	printFaceResult(w, r.Result, r.Eligibility(), r.Disagreements())
}

// printFaceResult prints a face result with its eligibility (nil when f.Err
// is set) and its disagreements with the card (nil without a card).
func printFaceResult(w io.Writer, f oqs.FaceResult, e *oqs.Eligibility, disagreements []oqs.Disagreement) {
	if f.Err != nil {
		if f.Name == "" {
			fmt.Fprintf(w, "顔認証フォルダ face folder %s\n", safe(f.Path))
			fmt.Fprintf(w, "  読めません cannot be read (retrying): %s\n\n", safe(f.Err.Error()))
			return
		}
		fmt.Fprintf(w, "顔認証の資格確認結果 face result %s\n", safe(f.Name))
		fmt.Fprintf(w, "  読めません unreadable (left in place): %s\n\n", safe(f.Err.Error()))
		return
	}
	if f.Note != "" {
		fmt.Fprintf(w, "  注意 note: %s\n", safe(f.Note))
	}
	printEligibility(w, *e, [2]string{"ファイル file", f.Name})
	if disagreements != nil {
		if len(disagreements) == 0 {
			fmt.Fprintln(w, "カードと一致 matches the card")
		}
		for _, d := range disagreements {
			fmt.Fprintf(w, "不一致 mismatch: %s (card 「%s」, result 「%s」)\n", safe(d.Detail), safe(d.Card), safe(d.Result))
		}
	}
	fmt.Fprintln(w)
}

func newOQSShowCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Decode one request, result or face file (by the prefix of its name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := oqs.ReadFile(args[0])
			if err != nil {
				return &exitError{code: exitOQSError, err: err}
			}
			switch {
			case f.ConfirmResult != nil:
				e := oqs.Summarize(f.ConfirmResult, f.Kind)
				if asJSON {
					writeJSON(a, e)
				} else {
					printEligibility(a.out, e)
				}
			case f.ConfirmRequest != nil:
				h, s := f.ConfirmRequest.Header, f.ConfirmRequest.Body.SearchInfo
				if asJSON {
					return writeJSON(a, oqs.SummarizeRequest(f.ConfirmRequest))
				}
				t := &table{}
				t.add("資格確認要求 request", fmt.Sprintf("%s, %s", f.Name, f.ConfirmRequest.Source.Encoding))
				t.add("医療機関コード institution", h.MedicalInstitutionCode)
				t.add("資格確認日 date", h.QualificationConfirmationDate)
				t.add("保険者番号 insurer", fmt.Sprintf("%q", s.InsurerNumber))
				t.add("記号・番号・枝番 card", strings.Join([]string{dash(s.InsuredCardSymbol), dash(s.InsuredIdentificationNumber), dash(s.InsuredBranchNumber)}, "・"))
				t.add("生年月日 birth date", s.Birthdate)
				t.add("限度額同意 limit consent", s.LimitApplicationCertificateRelatedConsFlg)
				t.write(a.out)
			case f.RegistrationRequest != nil || f.RegistrationResult != nil:
				writeJSON(a, f)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newOQSJobsCmd(a *app) *cobra.Command {
	var cf oqsClientFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "jobs --root DIR --mic CODE",
		Short: "List the requests waiting for their results (pending jobs)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := cf.client()
			if err != nil {
				return &exitError{code: exitOQSError, err: err}
			}
			jobs, err := c.Jobs()
			if err != nil {
				return &exitError{code: exitOQSError, err: err}
			}
			t := &table{}
			for _, j := range jobs {
				if all || j.State.Pending() {
					t.add(j.ID, string(j.State), j.Created.Format(time.RFC3339), j.Note)
				}
			}
			t.write(a.out)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "also list answered and abandoned jobs")
	return cmd
}
