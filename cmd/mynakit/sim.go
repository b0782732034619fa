package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/internal/loopback"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/simulator/vpcd"
)

func init() { register(newSimCmd) }

type simFlags struct {
	persona, image   string
	vpcdAddr, listen string
	allowRemote      bool
	removeAfter      int
	delay, byteDelay time.Duration
	link             string
	control          string
}

func newSimCmd(a *app) *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the simulated card behind pcscd's vpcd driver",
		Long: `Run the simulated Individual Number Card behind pcscd, through the vsmartcard
project's vpcd reader driver, so any PC/SC application sees it as a card.

  --vpcd ADDR         connect to vpcd in its default mode (it listens on 35963)
  --vpcd-listen ADDR  vpcd's reverse mode: listen on ADDR (loopback) and on the
                      next port, for the two slots one vpcd reader line makes;
                      pcscd is started with a reader file whose DEVICENAME is
                      localhost:PORT (see scripts/pcscd-sim.sh)

Ctrl-C pulls the card. Debian's vpcd (3.3) aborts pcscd when a reverse-mode
connection closes or a slot answers without an ATR, so in reverse mode both
slots hold a card (the second an independent copy of the first) and pcscd
should be stopped before the simulator; prefer --vpcd where a card must be
pulled and put back.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (f.vpcdAddr == "") == (f.listen == "") {
				return &exitError{code: exitUsageOrCard, err: fmt.Errorf("give exactly one of --vpcd ADDR or --vpcd-listen ADDR")}
			}
			img, err := f.loadImage()
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			logger := log.New(a.err, "mynakit sim: ", log.Ltime)
			ctx := cmd.Context()
			if f.vpcdAddr != "" {
				card, err := f.newCard(img)
				if err != nil {
					return err
				}
				if f.control != "" {
					ln, err := net.Listen("unix", f.control)
					if err != nil {
						return &exitError{code: exitUsageOrCard, err: fmt.Errorf("--control: %w", err)}
					}
					defer os.Remove(f.control)
					go func() { _ = vpcd.ServeControl(ctx, ln, card) }()
					logger.Printf("pull and re-insert the card with: mynakit sim pull|insert --control %s", f.control)
				}
				logger.Printf("serving %s to vpcd at %s (Ctrl-C pulls the card)", describeImage(img), f.vpcdAddr)
				return vpcd.Dial(ctx, f.vpcdAddr, card, logger)
			}
			return f.serveReverse(ctx, img, logger)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.persona, "persona", "", "persona JSON file (default: the built-in persona)")
	fl.StringVar(&f.image, "image", "", "card image JSON file (instead of a persona)")
	fl.StringVar(&f.vpcdAddr, "vpcd", "", "address of vpcd in its default mode, e.g. 127.0.0.1:35963")
	fl.StringVar(&f.listen, "vpcd-listen", "", "listen for vpcd in reverse mode, e.g. 127.0.0.1:35963 (uses PORT and PORT+1)")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow --vpcd-listen on a non-loopback address")
	fl.IntVar(&f.removeAfter, "remove-after", 0, "fault: pull the card after N APDUs")
	fl.DurationVar(&f.delay, "delay", 0, "fault: delay every APDU by this long")
	fl.DurationVar(&f.byteDelay, "byte-delay", 0, "fault: delay every response byte by this long")
	fl.StringVar(&f.link, "link", "", "take as long as this reader link would: contact (default rate, ~1 ms/byte), contact-fast (TA1=13), contactless (14443-B, 212 kbit/s)")
	fl.StringVar(&f.control, "control", "", "with --vpcd: a Unix socket on which 'mynakit sim pull|insert --control PATH' pulls and re-inserts the card")
	cmd.AddCommand(newSimPersonaCmd(a), newSimImageCmd(a), newSimOQSCmd(a), newSimControlCmd(a, vpcd.CommandPull), newSimControlCmd(a, vpcd.CommandInsert))
	return cmd
}

func (f *simFlags) loadImage() (*simulator.Image, error) {
	if f.image != "" && f.persona != "" {
		return nil, fmt.Errorf("give --persona or --image, not both")
	}
	if f.image != "" {
		return simulator.LoadImage(f.image)
	}
	return imageFromPersona(f.persona)
}

func imageFromPersona(path string) (*simulator.Image, error) {
	p := persona.Default()
	if path != "" {
		var err error
		if p, err = persona.Load(path); err != nil {
			return nil, err
		}
	}
	return persona.Build(p)
}

func (f *simFlags) newCard(img *simulator.Image) (*simulator.Card, error) {
	var opts []simulator.Option
	if f.removeAfter > 0 {
		opts = append(opts, simulator.WithRemovalAfter(f.removeAfter))
	}
	if f.delay > 0 || f.byteDelay > 0 {
		opts = append(opts, simulator.WithDelay(f.delay, f.byteDelay))
	}
	if f.link != "" {
		l, err := simulator.ParseLink(f.link)
		if err != nil {
			return nil, &exitError{code: exitUsageOrCard, err: err}
		}
		opts = append(opts, simulator.WithLink(l))
	}
	return simulator.New(img, opts...)
}

func (f *simFlags) serveReverse(ctx context.Context, img *simulator.Image, logger *log.Logger) error {
	host, portStr, err := net.SplitHostPort(f.listen)
	if err != nil {
		return &exitError{code: exitUsageOrCard, err: fmt.Errorf("--vpcd-listen: %w", err)}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65536-vpcd.Slots {
		return &exitError{code: exitUsageOrCard, err: fmt.Errorf("--vpcd-listen: port %q must be 1-%d", portStr, 65536-vpcd.Slots)}
	}
	if !f.allowRemote && !loopback.Host(host) {
		return &exitError{code: exitUsageOrCard, err: fmt.Errorf("--vpcd-listen %s is not a loopback address; add --allow-remote to really expose the card", host)}
	}
	logger.Printf("%s in both slots", describeImage(img))
	return vpcd.ServeSlots(ctx, host, port, func(int) (vpcd.Card, error) { return f.newCard(img) }, logger)
}

func describeImage(img *simulator.Image) string {
	return fmt.Sprintf("card with ATR %X and %d applets", []byte(img.ATR), len(img.Applets))
}

func newSimPersonaCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "persona",
		Short: "Print the default persona as JSON (edit it and pass it with --persona)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			enc := json.NewEncoder(a.out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(persona.Default())
		},
	}
}

func newSimImageCmd(a *app) *cobra.Command {
	var personaPath string
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Print the card image built from a persona (signed by the simulator's test hierarchy)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			img, err := imageFromPersona(personaPath)
			if err != nil {
				return err
			}
			b, err := img.Marshal()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.out, string(b))
			return err
		},
	}
	cmd.Flags().StringVar(&personaPath, "persona", "", "persona JSON file (default: the built-in persona)")
	return cmd
}

// newSimControlCmd is "sim pull" or "sim insert": it tells a running
// "sim --vpcd ... --control PATH" to take the card out or put it back.
func newSimControlCmd(a *app, command string) *cobra.Command {
	var path string
	short := map[string]string{vpcd.CommandPull: "Pull the simulated card out of its reader (カードを抜く)", vpcd.CommandInsert: "Put the simulated card back (カードを置く)"}[command]
	cmd := &cobra.Command{
		Use:   command + " --control PATH",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return fail(fmt.Errorf("--control PATH is needed: the socket the running 'mynakit sim --vpcd ... --control PATH' listens on"))
			}
			state, err := vpcd.SendControl(cmd.Context(), path, command)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintln(a.out, map[string]string{"present": "カードあり card present", "absent": "カードなし card absent"}[state])
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "control", "", "the simulator's control socket")
	return cmd
}
