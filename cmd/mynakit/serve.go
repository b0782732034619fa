package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/internal/activation"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/rundir"
)

func init() {
	register(newServeCmd)
	register(newOpenCmd)
}

// defaultAccessLogDir is where the access records are kept unless
// --access-log says otherwise: $XDG_STATE_HOME/mynakit/access-log, or
// ~/.local/state/mynakit/access-log.
func defaultAccessLogDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "mynakit", "access-log")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "mynakit", "access-log")
	}
	return "mynakit-access-log"
}

type serveFlags struct {
	addr           string
	origins        []string
	prompt         string
	logDir         string
	sinks          []string
	oqsRoot        string
	oqsMIC         string
	oqsState       string
	queueDepth     int
	queueWait      time.Duration
	consentTimeout time.Duration
	maxDocument    int64
	runDir         string
	unix           string
	noUnix         bool
	digestSigners  []string
}

func newServeCmd(a *app) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the local HTTP bridge and the counter page (loopback only)",
		Long: `Serve the card to web and desktop applications on this PC, and the counter
page for staff. The bridge listens on loopback only, answers only its own Host
name, serves only the origins given with --allow-origin (each pairs once
through the consent page), and asks for PINs on its own consent page, never
through the calling page (--prompt terminal asks here instead). Every card
operation is recorded in the access log (see mynakit log).

Each start writes a fresh launch secret to the user's runtime directory
(--run-dir; mode 0700, this user's, or serve refuses to start). The counter
page opens only through a one-time URL — the one printed here, or a new one
from mynakit open — whose ticket (in the URL's fragment, which no request
carries) the page exchanges once for a session token it keeps in the tab's
storage; no cookie is set. Only that session answers consent and pairing
pages. Local applications use a token derived from the
secret (mynakit open --app-token NAME), preferably over the Unix domain socket
in the runtime directory, which only this OS user can connect to.

With --simulator or --sim-image the card is an in-process simulated card;
otherwise the PC/SC readers are used, and a pcscd that restarts is found again.
--oqs-root turns on the clinic mode: face results of the eligibility terminal
on /v1/oqs/events, compared with the card read at the counter.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", bridge.DefaultAddr, "loopback address to listen on")
	fl.StringArrayVar(&f.origins, "allow-origin", nil, "web origin (scheme://host[:port]) whose pages may use the bridge; repeatable")
	fl.StringVar(&f.prompt, "prompt", "page", "where the holder types secrets: page (the consent page) or terminal (this terminal)")
	fl.StringVar(&f.logDir, "access-log", defaultAccessLogDir(), "folder of the access log (アクセス記録) and its key")
	fl.StringArrayVar(&f.sinks, "log-sink", nil, "also send each access record to syslog or journald; repeatable")
	fl.StringVar(&f.oqsRoot, "oqs-root", "", "clinic mode: the eligibility terminal's shared folder (req, res, face)")
	fl.StringVar(&f.oqsMIC, "oqs-mic", "", "clinic mode: the 医療機関コード, for /v1/oqs/confirm")
	fl.StringVar(&f.oqsState, "oqs-state", "", "clinic mode: folder of the confirmation jobs (default: beside the access log)")
	fl.IntVar(&f.queueDepth, "queue-depth", 64, "operations that may wait for one reader (more get 429)")
	fl.DurationVar(&f.queueWait, "queue-wait", 30*time.Second, "how long an operation may wait for its reader (longer gets 503)")
	fl.DurationVar(&f.consentTimeout, "consent-timeout", 60*time.Second, "how long an operation waits for the holder (others waiting for the reader are told waiting-for-consent)")
	fl.Int64Var(&f.maxDocument, "max-document", 16<<20, "largest document accepted for signing, in bytes")
	fl.StringVar(&f.runDir, "run-dir", "", "the user's runtime directory for the launch secret and the socket (default: $XDG_RUNTIME_DIR/mynakit)")
	fl.StringVar(&f.unix, "unix", "", "Unix domain socket for local applications (default: bridge.sock in the runtime directory)")
	fl.BoolVar(&f.noUnix, "no-unix", false, "do not serve the Unix domain socket")
	fl.StringArrayVar(&f.digestSigners, "allow-digest-sign", nil, "web origin, or app:NAME, allowed to have a raw digest signed (the holder cannot see its content); repeatable")
	return cmd
}

// runtimeDir is --run-dir, or the user's runtime directory, created if
// need be and checked (this user's, mode 0700, not a link).
func runtimeDir(flag string) (string, error) {
	if flag != "" {
		return flag, rundir.Make(flag)
	}
	return rundir.Ensure()
}

func (a *app) serve(ctx context.Context, f serveFlags) error {
	if a.allowLastTry {
		return fail(errors.New("serve では --allow-last-try は使えません --allow-last-try is not available for serve: the bridge never spends a key's last try"))
	}
	runDir, err := runtimeDir(f.runDir)
	if err != nil {
		return fail(fmt.Errorf("実行時フォルダが安全ではありません the runtime directory is not safe (it must be this user's, mode 0700): %w", err))
	}
	// A socket handed over by systemd (mynakit.socket) or another
	// LISTEN_FDS harness comes first; otherwise listen on --addr.
	ln, err := activation.Listener()
	if err == nil && ln == nil {
		ln, err = bridge.Listen(f.addr)
	}
	if err != nil {
		return fail(err)
	}
	defer ln.Close()
	var sinks []accesslog.Sink
	for _, name := range f.sinks {
		s, err := accesslog.ParseSink(name)
		if err != nil {
			return fail(fmt.Errorf("--log-sink: %w", err))
		}
		sinks = append(sinks, s)
	}
	logger := log.New(a.err, "mynakit serve: ", log.Ltime)
	lg, err := accesslog.Open(f.logDir, accesslog.Options{Sinks: sinks, OnSinkError: func(err error) { logger.Printf("log sink: %v", err) }})
	if err != nil {
		return fail(err)
	}
	defer lg.Close()
	if rep := lg.Recovery(); !rep.Intact() {
		for _, p := range rep.Problems {
			logger.Printf("アクセス記録の損傷 access log damage at entry %d (%s): %s", p.Entry, p.Kind, p.Detail)
		}
	}
	opts := bridge.Options{
		Addr: ln.Addr().String(), AllowOrigins: f.origins, Log: lg, TrustDirs: a.trustDirs, Logger: logger,
		QueueDepth: f.queueDepth, QueueWait: f.queueWait, ConsentTimeout: f.consentTimeout, MaxDocument: f.maxDocument,
		Secret: bridge.NewSecret(), SpoolDir: runDir, DigestSigners: f.digestSigners,
	}
	switch f.prompt {
	case "page":
	case "terminal":
		var p pin.Prompter
		var approve func(context.Context, bridge.ConsentRequest) (bool, error)
		p = a.prompter()
		lines, ok := p.(*pin.LinePrompter)
		if !ok {
			// Secrets are read from the terminal without echo; answers
			// are read as lines from the same terminal.
			lines = pin.NewLinePrompter(a.in)
		}
		approve = bridge.LineApprover(lines, a.err)
		opts.Consent = &bridge.PromptConsent{Prompter: p, Approve: approve, Out: a.err}
	default:
		return fail(fmt.Errorf("--prompt %q: page か terminal です want page or terminal", f.prompt))
	}
	if a.simulated() {
		sc, err := a.simCard()
		if err != nil {
			return fail(err)
		}
		local := bridge.NewLocalReaders()
		if err := local.Add("mynakit in-process simulator", sc, true); err != nil {
			return fail(err)
		}
		opts.Backend = local
	} else {
		opts.Backend = bridge.PCSC{OnError: func(err error) { logger.Printf("PC/SC: %v (trying again)", err) }}
	}
	if f.oqsRoot != "" {
		state := f.oqsState
		if state == "" && f.oqsMIC != "" {
			state = filepath.Join(filepath.Dir(f.logDir), "oqs-state")
		}
		opts.Clinic = &bridge.ClinicOptions{Root: f.oqsRoot, MedicalInstitutionCode: f.oqsMIC, StateDir: state}
	}
	b, err := bridge.New(opts)
	if err != nil {
		return fail(err)
	}
	launch := b.Launch()
	var more []net.Listener
	if !f.noUnix {
		sock := f.unix
		if sock == "" {
			sock = filepath.Join(runDir, bridge.SocketFile)
		}
		uln, err := bridge.ListenUnix(sock)
		switch {
		case errors.Is(err, bridge.ErrNoSocket) && f.unix == "":
			logger.Printf("%v", err)
		case err != nil:
			b.Close()
			return fail(fmt.Errorf("--unix: %w", err))
		default:
			defer uln.Close()
			more = append(more, uln)
			launch.Socket = sock
		}
	}
	launch.PID = os.Getpid()
	if err := bridge.WriteLaunch(runDir, launch); err != nil {
		b.Close()
		return fail(err)
	}
	defer bridge.RemoveLaunch(runDir, launch.Secret)
	fmt.Fprintf(a.out, "窓口画面 counter page: %s/\n", b.Origin())
	fmt.Fprintf(a.out, "一度限りのURL one-time URL (valid 1 hour; mynakit open gives a new one): %s\n", b.OpenURL(time.Hour))
	fmt.Fprintf(a.err, "アクセス記録 access log: %s\n", lg.Path())
	if launch.Socket != "" {
		fmt.Fprintf(a.err, "ローカルアプリ用ソケット socket for local applications: %s\n", launch.Socket)
	}
	for _, o := range f.origins {
		fmt.Fprintf(a.err, "許可するオリジン allowed origin: %s\n", o)
	}
	if err := b.Serve(ctx, ln, more...); err != nil {
		return fail(err)
	}
	return nil
}

type openFlags struct {
	runDir   string
	print    bool
	appToken string
}

func newOpenCmd(a *app) *cobra.Command {
	var f openFlags
	cmd := &cobra.Command{
		Use:   "open",
		Short: "Open the running bridge's counter page (a one-time URL), or print a local application's token",
		Long: `Open the counter page of the bridge this OS user runs (mynakit serve) in the
browser, through a one-time URL valid for two minutes (its ticket in the
fragment, #ticket=…) that the page exchanges once for the counter's session. The URL is made from the launch secret in the user's
runtime directory, which no other OS user can read.

--app-token NAME prints the API token of the local application NAME instead
(send it as "Authorization: Bearer TOKEN", without an Origin, preferably over
the Unix domain socket). Each name is its own principal with its own
operations and event streams; a restarted bridge makes new tokens.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.openCounter(f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.runDir, "run-dir", "", "the user's runtime directory (default: $XDG_RUNTIME_DIR/mynakit)")
	fl.BoolVar(&f.print, "print", false, "print the one-time URL instead of opening a browser")
	fl.StringVar(&f.appToken, "app-token", "", "print the token of the local application NAME")
	return cmd
}

func (a *app) openCounter(f openFlags) error {
	dir := f.runDir
	if dir == "" {
		d, err := rundir.Dir()
		if err != nil {
			return fail(err)
		}
		dir = d
	}
	l, err := bridge.ReadLaunch(dir)
	if err != nil {
		return fail(err)
	}
	if f.appToken != "" {
		tok, err := l.AppToken(f.appToken)
		if err != nil {
			return fail(fmt.Errorf("--app-token: %w", err))
		}
		fmt.Fprintln(a.out, tok)
		if l.Socket != "" {
			fmt.Fprintf(a.err, "ソケット socket: %s\n", l.Socket)
		}
		return nil
	}
	u := l.OpenURL(time.Now(), 2*time.Minute)
	if f.print {
		fmt.Fprintln(a.out, u)
		return nil
	}
	if err := openBrowser(u); err != nil {
		fmt.Fprintf(a.err, "ブラウザを開けません could not open a browser (%v): open this URL on this PC:\n", err)
		fmt.Fprintln(a.out, u)
	}
	return nil
}

// openBrowser hands url to the desktop's browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
