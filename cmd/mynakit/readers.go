package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/apdu/pcsc"
)

func init() { register(newReadersCmd) }

type readerJSON struct {
	Name        string `json:"name"`
	CardPresent bool   `json:"card_present"`
	ATR         string `json:"atr,omitempty"`
}

func newReadersCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "readers",
		Short: "List PC/SC readers, whether a card is present, and its ATR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var list []readerJSON
			if a.useSimulator || a.simImage != "" {
				h, err := a.openCard(cmd.Context())
				if err != nil {
					return err
				}
				defer h.Close()
				list = append(list, readerJSON{Name: h.Reader, CardPresent: true, ATR: strings.ToUpper(hex.EncodeToString(h.ATR))})
			} else {
				pc, err := pcsc.Establish()
				if err != nil {
					return fmt.Errorf("PC/SC: %w", err)
				}
				defer pc.Close()
				readers, err := pc.Readers()
				if err != nil {
					return err
				}
				for _, r := range readers {
					list = append(list, readerJSON{Name: r.Name, CardPresent: r.CardPresent, ATR: strings.ToUpper(hex.EncodeToString(r.ATR))})
				}
			}
			if asJSON {
				if list == nil {
					list = []readerJSON{}
				}
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"readers": list})
			}
			if len(list) == 0 {
				fmt.Fprintln(a.out, "No PC/SC reader found. Is pcscd running? (Without a reader, try --simulator.)")
				return nil
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "#\tREADER\tCARD\tATR")
			for i, r := range list {
				card := "no"
				if r.CardPresent {
					card = "yes"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i, r.Name, card, r.ATR)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
