package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/cvcache"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

// app holds the global flags and the streams every command writes to.
type app struct {
	in       io.Reader
	out, err io.Writer

	reader       string // --reader: index or substring of a reader name
	useSimulator bool   // --simulator: in-process card from the default persona
	simImage     string // --sim-image: in-process card from an image file
	pinStdin     bool   // --pin-stdin: secrets one per line on stdin
	allowLastTry bool   // --allow-last-try
	codeB        bool   // --code-b: ask 照合番号B instead of the PIN
	wait         bool   // --wait: wait for a card to be inserted
	debug        bool   // --debug (or MYNAKIT_DEBUG=apdu): every APDU on stderr
	cvCache      bool   // --cv-cache: keep verified CV certificates under the user's cache directory
	trustDirs    []string

	linePrompter *pin.LinePrompter // one reader of stdin for the whole run
}

func newRootCmd(in io.Reader, out, errw io.Writer) *cobra.Command {
	a := &app{in: in, out: out, err: errw}
	root := &cobra.Command{
		Use:   "mynakit",
		Short: "Read, verify and sign with the Individual Number Card (マイナンバーカード)",
		Long: `mynakit speaks to Japan's Individual Number Card through any PC/SC reader:
it reads the JPKI certificates and the card-surface data with one PIN prompt,
verifies them against J-LIS's keys, signs documents, and ships a software card
simulator for development.

Without a card, add --simulator to any command to use an in-process simulated
card (default persona), or --sim-image FILE for a card image.

Exit status of the commands that judge: 0 genuine, 1 not genuine, 2 unknown
(an anchor is missing), 3 the card, the reader, a PIN or the command failed,
4 genuine but expired or revoked.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	pf := root.PersistentFlags()
	pf.StringVar(&a.reader, "reader", "", "PC/SC reader to use: index (0, 1, ...) or part of its name")
	pf.BoolVar(&a.useSimulator, "simulator", false, "use an in-process simulated card (default persona) instead of a reader")
	pf.StringVar(&a.simImage, "sim-image", "", "use an in-process simulated card loaded from this card image")
	pf.BoolVar(&a.pinStdin, "pin-stdin", false, "read secrets from standard input, one per line, in the order asked")
	pf.BoolVar(&a.allowLastTry, "allow-last-try", false, "allow a VERIFY that would block the key if the secret is wrong")
	pf.BoolVar(&a.codeB, "code-b", false, "ask for 照合番号B (birth date, expiry year, security code from the card face) instead of the PIN")
	pf.BoolVar(&a.wait, "wait", false, "wait for a card to be inserted (PC/SC readers)")
	pf.StringArrayVar(&a.trustDirs, "trust-dir", nil, "directory of extra trust anchors (PEM roots, CV CA keys JSON); repeatable")
	pf.BoolVar(&a.debug, "debug", os.Getenv("MYNAKIT_DEBUG") == "apdu", "print every APDU and response with its duration on standard error (secrets and the My Number redacted); also MYNAKIT_DEBUG=apdu")
	pf.BoolVar(&a.cvCache, "cv-cache", false, "remember verified card-verifiable certificates in the user's cache directory, so the next card of the same municipality reads faster")
	root.Version = version()

	for _, add := range subcommands {
		root.AddCommand(add(a))
	}
	return root
}

// subcommands is filled by each command's file in its init function, so
// commands can live in files of their own.
var subcommands []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { subcommands = append(subcommands, f) }

// idleWipe is how long the CLI keeps secrets without use.
const idleWipe = 5 * time.Minute

// prompter is what the flags ask for: lines from stdin with --pin-stdin,
// otherwise the terminal without echo.
func (a *app) prompter() pin.Prompter {
	if a.linePrompter != nil {
		return a.linePrompter
	}
	if a.pinStdin {
		a.linePrompter = pin.NewLinePrompter(a.in)
		return a.linePrompter
	}
	in, ok := a.in.(*os.File)
	if !ok {
		in = os.Stdin
	}
	return pin.TerminalPrompter{In: in, Out: a.err}
}

func (a *app) openOptions() mynakit.OpenOptions {
	o := mynakit.OpenOptions{
		Reader: a.reader,
		Wait:   a.wait,
		OnWait: func(r string) {
			if r == "" {
				fmt.Fprintln(a.err, "カードリーダーを接続してください / connect a card reader ...")
				return
			}
			fmt.Fprintf(a.err, "カードを置いてください / insert a card into %s ...\n", r)
		},
		Prompter:     a.prompter(),
		AllowLastTry: a.allowLastTry,
		CodeBFirst:   a.codeB,
		IdleWipe:     idleWipe,
		TrustDirs:    a.trustDirs,
	}
	if a.debug {
		o.Debug = a.err
	}
	if a.cvCache {
		if path, err := cvcache.DefaultPath(); err == nil {
			if c, err := cvcache.Open(path); err == nil {
				o.CVCache = c
			}
		}
	}
	return o
}

// version reports the module version and VCS revision the binary was
// built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown build)"
	}
	v := bi.Main.Version
	var rev, modified, at string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		case "vcs.time":
			at = s.Value
		}
	}
	if rev != "" {
		v += fmt.Sprintf(" (%s%s, %s)", rev, modified, at)
	}
	return v + " " + bi.GoVersion
}

// simulated reports whether the flags name an in-process card.
func (a *app) simulated() bool { return a.useSimulator || a.simImage != "" }

// simCard builds the in-process simulated card the flags name.
func (a *app) simCard() (*simulator.Card, error) {
	var img *simulator.Image
	var err error
	if a.simImage != "" {
		if img, err = simulator.LoadImage(a.simImage); err != nil {
			return nil, fmt.Errorf("--sim-image: %w", err)
		}
	} else {
		img, err = persona.Build(persona.Default())
	}
	if err != nil {
		return nil, err
	}
	return simulator.New(img)
}

// trustStore is what a command without a card judges against: the
// embedded J-LIS anchors, --trust-dir, and with --simulator or --sim-image
// the simulator's test hierarchy (for codes and signatures it made).
func (a *app) trustStore() (*trust.Store, error) {
	var test mynakit.TestAnchorProvider
	if a.simulated() {
		test = simulator.TestHierarchy{}
	}
	return mynakit.NewTrustStore(a.trustDirs, test)
}

// open opens the card the flags name: the in-process simulator, or a PC/SC
// reader. Failures are exit status 3.
func (a *app) open(ctx context.Context) (*mynakit.Card, error) {
	if a.simulated() {
		sc, err := a.simCard()
		if err != nil {
			return nil, fail(err)
		}
		c, err := mynakit.OpenTransport(sc, "mynakit in-process simulator", a.openOptions())
		return c, fail(err)
	}
	c, err := mynakit.Open(ctx, a.openOptions())
	return c, fail(err)
}
