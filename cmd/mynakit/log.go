package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/accesslog"
)

func init() { register(newLogCmd) }

func newLogCmd(a *app) *cobra.Command {
	var asJSON, verify, card bool
	var dir string
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show or verify the bridge's access log (アクセス記録)",
		Long: `Show the access records the bridge keeps: one row per card operation, with
its time, the web origin that asked, the reader, which data, the outcome and
the card (as a keyed hash of its serial, never the serial itself).

  --verify  check that no entry was changed, removed, cut off the end or
            rewritten without the log's key (access.key), and say where the
            log is damaged (exit 0 intact, 1 damaged, 3 error)
  --card    only the operations on the card in the reader, so its holder sees
            who read it and what (reads the card's serial; no PIN)
  --json    the entries as stored, one JSON object per line (with --verify:
            the check's findings)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := filepath.Join(dir, accesslog.FileName)
			rep, entries, err := accesslog.Verify(path)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return fail(fmt.Errorf("アクセス記録がありません no access log at %s (--access-log)", path))
				}
				return fail(err)
			}
			if verify {
				return a.printVerify(rep, path, asJSON)
			}
			if card {
				id, err := a.cardID(cmd, dir)
				if err != nil {
					return err
				}
				entries = accesslog.EntriesOfCard(entries, id)
				fmt.Fprintln(a.err, "このカードのアクセス記録 access records of the card in the reader:")
			}
			if asJSON {
				for _, e := range entries {
					writeJSONLine(a.out, e)
				}
				return nil
			}
			printOperations(a, entries)
			if !rep.Intact() {
				fmt.Fprintf(a.err, "注意: アクセス記録が損傷しています warning: the log is damaged (%d problems); see mynakit log --verify\n", len(rep.Problems))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print JSON lines")
	fl.BoolVar(&verify, "verify", false, "verify the hash chain and report where it breaks")
	fl.BoolVar(&card, "card", false, "only the records of the card in the reader")
	fl.StringVar(&dir, "access-log", defaultAccessLogDir(), "folder of the access log")
	return cmd
}

func (a *app) printVerify(rep accesslog.Report, path string, asJSON bool) error {
	if asJSON {
		if err := writeJSON(a, rep.Verification(path)); err != nil {
			return err
		}
	} else if rep.Intact() {
		fmt.Fprintf(a.out, "アクセス記録は完全です the access log is intact: %d entries, hash chain verified (%s)\n", rep.Entries, path)
	} else {
		fmt.Fprintf(a.out, "アクセス記録が損傷しています the access log is damaged (%s): %d entries\n", path, rep.Entries)
		for _, p := range rep.Problems {
			where := fmt.Sprintf("entry %d", p.Entry)
			if p.Entry == 0 {
				where = "log"
			}
			fmt.Fprintf(a.out, "  %s: %s — %s\n", where, p.Kind, p.Detail)
		}
	}
	if !rep.Intact() {
		return &exitError{code: 1}
	}
	return nil
}

// cardID is the log's hash of the serial of the card the flags name.
func (a *app) cardID(cmd *cobra.Command, dir string) (string, error) {
	key, err := accesslog.LoadKey(dir)
	if err != nil {
		return "", fail(fmt.Errorf("access log key: %w", err))
	}
	ctx := cmd.Context()
	c, err := a.open(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	r, err := c.Read(ctx, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartCommon}})
	if err != nil {
		return "", fail(err)
	}
	if r.Common == nil || r.Common.Serial == "" {
		return "", fail(errors.New("カードの製造番号（共通AP）を読めないため、記録を探せません the card's serial (共通AP) cannot be read, so its records cannot be found"))
	}
	return accesslog.CardID(key, r.Common.Serial), nil
}

var outcomeWords = map[string]string{
	"genuine": "真正 genuine", "genuine-expired": "真正・期限切れ genuine, expired", "not-genuine": "真正でない not genuine",
	"unknown": "不明 unknown", "ok": "完了 ok", "denied": "拒否 denied", "cancelled": "取消 cancelled",
}

func printOperations(a *app, entries []accesslog.Entry) {
	ops, others := accesslog.Operations(entries)
	if len(ops) == 0 && len(others) == 0 {
		fmt.Fprintln(a.out, "記録はありません no records")
		return
	}
	tw := &table{width: termWidth(a.out)}
	tw.add("TIME 日時", "ORIGIN 依頼元", "READER", "ACTION", "CARD", "OUTCOME 結果", "DATA 情報")
	for _, o := range ops {
		outcome := "中断 interrupted (no end record)"
		if o.End != nil {
			outcome = o.End.Outcome
			if w, ok := outcomeWords[outcome]; ok {
				outcome = w
			}
		}
		origin := o.Begin.Origin
		if origin == "" {
			origin = "local app"
		}
		card := o.Card()
		if len(card) > 8 {
			card = card[:8]
		}
		tw.add(o.Begin.Time.Local().Format(time.DateTime), origin, dash(o.Begin.Reader), o.Begin.Action, dash(card), outcome, strings.Join(o.Begin.Data, ","))
	}
	for _, e := range others {
		tw.add(e.Time.Local().Format(time.DateTime), dash(e.Origin), dash(e.Reader), e.Action, dash(e.Card), dash(e.Outcome), e.Note)
	}
	tw.write(a.out)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
