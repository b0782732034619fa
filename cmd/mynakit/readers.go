package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/present"
)

func init() { register(newReadersCmd) }

func newReadersCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "readers",
		Short: "List PC/SC readers, whether a card is present, and its ATR",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var list []present.Reader
			if a.simulated() {
				card, err := a.open(cmd.Context())
				if err != nil {
					return err
				}
				defer card.Close()
				list = append(list, present.ReaderOf(card.Reader(), true, card.ATR()))
			} else {
				readers, err := mynakit.Readers(cmd.Context())
				if err != nil {
					return fail(err)
				}
				for _, r := range readers {
					list = append(list, present.ReaderOf(r.Name, r.CardPresent, r.ATR))
				}
			}
			if asJSON {
				return writeJSON(a, present.ReaderList(list))
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
