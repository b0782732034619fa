package main

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newAPDUCmd) }

func newAPDUCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "apdu HEX...",
		Short: "Send raw command APDUs and print the responses (a developer's tool)",
		Long: `Send raw command APDUs to the card and print each response.
Each argument is one APDU in hex; spaces and colons inside it are ignored.
61xx and 6Cxx are not followed: you see exactly what the card said.

Example: mynakit apdu --simulator "00 A4 04 0C 0A D392F000260100000001" 00B0000004`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var apdus [][]byte
			for _, s := range args {
				b, err := hex.DecodeString(strings.NewReplacer(" ", "", ":", "").Replace(s))
				if err != nil || len(b) < 4 {
					return &exitError{code: exitUsageOrCard, err: fmt.Errorf("%q is not a command APDU in hex", s)}
				}
				apdus = append(apdus, b)
			}
			h, err := a.openCard(cmd.Context())
			if err != nil {
				return &exitError{code: exitUsageOrCard, err: err}
			}
			defer h.Close()
			t := h.Card.Transport()
			for _, c := range apdus {
				fmt.Fprintf(a.out, "> %s\n", spacedHex(c))
				r, err := t.Transmit(cmd.Context(), c)
				if err != nil {
					return &exitError{code: exitUsageOrCard, err: err}
				}
				if len(r) >= 2 {
					fmt.Fprintf(a.out, "< %s %s\n", spacedHex(r[:len(r)-2]), strings.ToUpper(hex.EncodeToString(r[len(r)-2:])))
				} else {
					fmt.Fprintf(a.out, "< %s (no status word)\n", spacedHex(r))
				}
			}
			return nil
		},
	}
}

func spacedHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, " ")
}
