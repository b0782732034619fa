package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/apdu/pcsc"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
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
	wait         bool   // --wait: wait for a card to be inserted
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
card (default persona), or --sim-image FILE for a card image.`,
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
	pf.BoolVar(&a.wait, "wait", false, "wait for a card to be inserted (PC/SC readers)")
	pf.StringArrayVar(&a.trustDirs, "trust-dir", nil, "directory of extra trust anchors (PEM roots, CV CA keys JSON); repeatable")

	for _, add := range subcommands {
		root.AddCommand(add(a))
	}
	return root
}

// subcommands is filled by each command's file in its init function, so
// commands can live in files of their own.
var subcommands []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { subcommands = append(subcommands, f) }

// cardHandle is an open card and what it is.
type cardHandle struct {
	Card *apdu.Card
	// Simulated is true for --simulator and --sim-image: only then are the
	// simulator's test anchors trusted without --trust-dir.
	Simulated bool
	Reader    string
	ATR       []byte
	close     func() error
}

// Close releases the card.
func (h *cardHandle) Close() error {
	if h.close != nil {
		return h.close()
	}
	return nil
}

// openCard opens the card the global flags name: an in-process simulator,
// or a PC/SC reader (the first with a card when --reader is not given).
func (a *app) openCard(ctx context.Context) (*cardHandle, error) {
	if a.useSimulator || a.simImage != "" {
		var img *simulator.Image
		var err error
		if a.simImage != "" {
			img, err = simulator.LoadImage(a.simImage)
		} else {
			img, err = persona.Build(persona.Default())
		}
		if err != nil {
			return nil, err
		}
		sc, err := simulator.New(img)
		if err != nil {
			return nil, err
		}
		return &cardHandle{Card: apdu.NewCard(sc), Simulated: true, Reader: "mynakit in-process simulator", ATR: sc.ATR(), close: sc.Close}, nil
	}
	pc, err := pcsc.Establish()
	if err != nil {
		return nil, fmt.Errorf("PC/SC: %w", err)
	}
	readers, err := pc.Readers()
	if err != nil {
		pc.Close()
		return nil, err
	}
	name, err := pickReader(readers, a.reader)
	if a.wait && len(readers) > 0 && (err != nil || !hasCard(readers, name)) {
		name, err = a.waitForCard(ctx, pc, readers)
	}
	if err != nil {
		pc.Close()
		return nil, err
	}
	t, err := pc.Connect(ctx, name, pcsc.ShareShared)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("connect to %q: %w", name, err)
	}
	return &cardHandle{Card: apdu.NewCard(t), Reader: name, ATR: t.ATR(), close: func() error {
		err := t.Close()
		pc.Close()
		return err
	}}, nil
}

// pickReader chooses a reader: by index, by case-insensitive substring, or
// the first one holding a card.
func pickReader(readers []pcsc.ReaderInfo, want string) (string, error) {
	if len(readers) == 0 {
		return "", fmt.Errorf("no PC/SC reader found (is pcscd running? try --simulator)")
	}
	if want == "" {
		for _, r := range readers {
			if r.CardPresent {
				return r.Name, nil
			}
		}
		return "", fmt.Errorf("no card in any of %d reader(s); insert a card or name one with --reader", len(readers))
	}
	if i, err := strconv.Atoi(want); err == nil {
		if i < 0 || i >= len(readers) {
			return "", fmt.Errorf("reader index %d out of range (0-%d)", i, len(readers)-1)
		}
		return readers[i].Name, nil
	}
	var hits []string
	for _, r := range readers {
		if strings.Contains(strings.ToLower(r.Name), strings.ToLower(want)) {
			hits = append(hits, r.Name)
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("no reader matches %q", want)
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("%q matches %d readers (%s); be more specific", want, len(hits), strings.Join(hits, ", "))
}

// waitForCard waits for a card in the reader --reader names, or in the
// first reader when none is named.
func (a *app) waitForCard(ctx context.Context, pc *pcsc.Context, readers []pcsc.ReaderInfo) (string, error) {
	name := readers[0].Name
	if a.reader != "" {
		all := make([]pcsc.ReaderInfo, len(readers))
		for i, r := range readers {
			all[i] = pcsc.ReaderInfo{Name: r.Name, CardPresent: true}
		}
		var err error
		if name, err = pickReader(all, a.reader); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(a.err, "カードを置いてください / insert a card into %s ...\n", name)
	if err := pc.WaitForCard(ctx, name); err != nil {
		return "", fmt.Errorf("wait for a card in %q: %w", name, err)
	}
	return name, nil
}

func hasCard(readers []pcsc.ReaderInfo, name string) bool {
	for _, r := range readers {
		if r.Name == name {
			return r.CardPresent
		}
	}
	return false
}
