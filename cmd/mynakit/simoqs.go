package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mynakit/mynakit/internal/loopback"
	"github.com/mynakit/mynakit/oqs"
	"github.com/mynakit/mynakit/oqs/oqssim"
)

// simOQSFlags are the settings shared by sim oqs and sim oqs face.
type simOQSFlags struct {
	root, scenarios, encoding, mic string
	faults                         oqssim.Faults
	seed                           uint64
}

func (f *simOQSFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.root, "root", "", "share root holding req, res and face (created if missing)")
	fl.StringVar(&f.scenarios, "scenarios", "", "scenario file, YAML or JSON (default: the built-in scenarios; see sim oqs scenarios)")
	fl.StringVar(&f.encoding, "encoding", "utf-8", "encoding of answers and face files: utf-8 or shift_jis")
	fl.StringVar(&f.mic, "mic", oqssim.DefaultMIC, "the terminal's 医療機関コード, written into face files")
	fl.DurationVar(&f.faults.SlowWrite, "slow-write", 0, "fault: write files in place, chunk by chunk, pausing this long between chunks")
	fl.IntVar(&f.faults.SlowChunk, "slow-chunk", 256, "bytes per chunk for --slow-write")
	fl.BoolVar(&f.faults.Shuffle, "shuffle", false, "fault: elements in random order")
	fl.BoolVar(&f.faults.OmitOptional, "omit-optional", false, "fault: leave out empty and optional elements")
	fl.BoolVar(&f.faults.Duplicate, "duplicate", false, "fault: write every result twice (face: a second file with the same bytes)")
	fl.BoolVar(&f.faults.MoveAway, "move-away", false, "fault: move every written file into trash, as an EMR that tidies the share")
	fl.DurationVar(&f.faults.MoveAfter, "move-after", 0, "with --move-away: how long after the file is complete")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for --shuffle (0: random)")
}

func (f *simOQSFlags) terminal(a *app, poll time.Duration) (*oqssim.Terminal, error) {
	if f.root == "" {
		return nil, &exitError{code: exitUsageOrCard, err: errors.New("--root is required")}
	}
	enc, err := oqs.ParseEncoding(f.encoding)
	if err != nil {
		return nil, &exitError{code: exitUsageOrCard, err: fmt.Errorf("--encoding: %w", err)}
	}
	sc, err := oqssim.LoadScenarios(f.scenarios)
	if err != nil {
		return nil, &exitError{code: exitUsageOrCard, err: err}
	}
	return oqssim.New(oqssim.Config{Root: f.root, Scenarios: sc, Encoding: enc, EncodingSet: true, MedicalInstitutionCode: f.mic,
		Poll: poll, Faults: f.faults, Seed: f.seed, Logger: log.New(a.err, "mynakit sim oqs: ", log.Ltime)})
}

func newSimOQSCmd(a *app) *cobra.Command {
	var f simOQSFlags
	var poll time.Duration
	var httpAddr string
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "oqs --root DIR [--scenarios FILE]",
		Short: "Run a simulated 資格確認端末 (online eligibility terminal) on a shared-folder root",
		Long: `Run a simulated 資格確認端末: watch DIR/req, answer each request in DIR/res under
the same name with req replaced by res, from the scenarios (built-in, or
--scenarios FILE in YAML or JSON). Face-folder results are written by
"mynakit sim oqs face" or, with --http, by POST /face?scenario=NAME.

Faults: --latency, --never-answer, --slow-write, --shuffle, --omit-optional,
--duplicate, --move-away. Every person in the built-in scenarios is made up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := f.terminal(a, poll)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if httpAddr != "" {
				if err := serveTrigger(ctx, a, t, httpAddr, allowRemote); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.err, "mynakit sim oqs: answering requests in %s (Ctrl-C stops)\n", f.root)
			return t.Run(ctx)
		},
	}
	fl := cmd.Flags()
	f.register(fl)
	fl.DurationVar(&poll, "poll", 200*time.Millisecond, "how often req is scanned")
	fl.DurationVar(&f.faults.Latency, "latency", 0, "fault: delay every answer")
	fl.BoolVar(&f.faults.NeverAnswer, "never-answer", false, "fault: consume requests and never answer")
	fl.StringVar(&httpAddr, "http", "", "serve the HTTP trigger (POST /face?scenario=NAME) on this loopback address")
	fl.BoolVar(&allowRemote, "allow-remote", false, "allow --http on a non-loopback address")
	cmd.AddCommand(newSimOQSFaceCmd(a), newSimOQSScenariosCmd(a))
	return cmd
}

func serveTrigger(ctx context.Context, a *app, t *oqssim.Terminal, addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return &exitError{code: exitUsageOrCard, err: fmt.Errorf("--http: %w", err)}
	}
	if !allowRemote && !loopback.Host(host) {
		return &exitError{code: exitUsageOrCard, err: fmt.Errorf("--http %s is not a loopback address; add --allow-remote to expose the trigger", host)}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: t.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(a.err, "mynakit sim oqs: trigger on http://%s/face?scenario=NAME\n", ln.Addr())
	return nil
}

func newSimOQSFaceCmd(a *app) *cobra.Command {
	var f simOQSFlags
	var scenario string
	cmd := &cobra.Command{
		Use:   "face --root DIR --scenario NAME",
		Short: "Write a face-folder result, as the terminal does after a card is presented at the face-recognition reader",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if scenario == "" {
				return &exitError{code: exitUsageOrCard, err: errors.New("--scenario is required")}
			}
			t, err := f.terminal(a, 0)
			if err != nil {
				return err
			}
			path, err := t.EmitFace(cmd.Context(), scenario)
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			_, err = fmt.Fprintln(a.out, path)
			return err
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().StringVar(&scenario, "scenario", "", "scenario to present (see sim oqs scenarios)")
	return cmd
}

func newSimOQSScenariosCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "scenarios",
		Short: "Print the built-in scenario file (YAML) to copy and edit",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := a.out.Write(oqssim.DefaultScenariosYAML())
			return err
		},
	}
}
