package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
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
			if a.simulated() {
				card, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				defer card.Close()
				list = append(list, readerJSON{Name: card.Reader(), CardPresent: true, ATR: strings.ToUpper(hex.EncodeToString(card.ATR()))})
			} else {
				readers, err := mynakit.Readers(cmd.Context())
				if err != nil {
					return fail(err)
				}
				for _, r := range readers {
					list = append(list, readerJSON{Name: r.Name, CardPresent: r.CardPresent, ATR: strings.ToUpper(hex.EncodeToString(r.ATR))})
				}
			}
			if asJSON {
				if list == nil {
					list = []readerJSON{}
				}
				return writeJSON(a, map[string]any{"readers": list})
			}
			if len(list) == 0 {
				fmt.Fprintln(a.out, "カードリーダーが見つかりません / No PC/SC reader found. Is pcscd running? (Without a reader, try --simulator.)")
				return nil
			}
			tw := &table{}
			tw.add("#", "READER", "CARD", "ATR")
			for i, r := range list {
				card := "no"
				if r.CardPresent {
					card = "yes"
				}
				tw.add(fmt.Sprint(i), r.Name, card, r.ATR)
			}
			tw.write(a.out)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
