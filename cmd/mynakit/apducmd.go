package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/pin"
)

func init() { register(newAPDUCmd) }

func newAPDUCmd(a *app) *cobra.Command {
	var rawVerify bool
	cmd := &cobra.Command{
		Use:   "apdu HEX... | apdu -",
		Short: "Send raw command APDUs and print the responses (a developer's tool)",
		Long: `Send raw command APDUs to the card, in one transaction, and print each
response. Each argument is one APDU in hex; spaces and colons inside it are
ignored. With "-" the APDUs are read from standard input, one per line (lines
starting with # are skipped), so nothing secret sits in the command line.
61xx and 6Cxx are not followed: you see exactly what the card said.

VERIFY, CHANGE REFERENCE DATA and CHANGE KEY with data are refused unless
--raw-verify is given: they bypass the PIN session's retry guard, so one
mistyped APDU can spend a key's last try and block it.

Example: mynakit apdu --simulator "00 A4 04 0C 0A D392F000260100000001" 00B0000004`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var lines []string
			if len(args) == 1 && args[0] == "-" {
				var err error
				if lines, err = readAPDULines(a.in); err != nil {
					return fail(err)
				}
			} else {
				lines = args
			}
			var apdus [][]byte
			for i, s := range lines {
				b, err := hex.DecodeString(strings.NewReplacer(" ", "", ":", "").Replace(s))
				if err != nil || len(b) < 4 {
					// Not the text itself: a mistyped VERIFY holds a PIN.
					return fail(fmt.Errorf("APDU %d is not a command APDU in hex (at least 4 bytes)", i+1))
				}
				apdus = append(apdus, b)
			}
			if !rawVerify {
				if err := pin.RefuseSecrets(apdus); err != nil {
					return fail(fmt.Errorf("%w; add --raw-verify if you mean it", err))
				}
			}
			card, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer card.Close()
			resps, err := card.Transmit(cmd.Context(), apdus, rawVerify)
			for i, r := range resps {
				c := apdus[i]
				if rawVerify && pin.CarriesSecret(c) {
					fmt.Fprintf(a.out, "> %s [data redacted]\n", spacedHex(c[:4]))
				} else {
					fmt.Fprintf(a.out, "> %s\n", spacedHex(c))
				}
				if len(r) >= 2 {
					fmt.Fprintf(a.out, "< %s %s\n", spacedHex(r[:len(r)-2]), strings.ToUpper(hex.EncodeToString(r[len(r)-2:])))
				} else {
					fmt.Fprintf(a.out, "< %s (no status word)\n", spacedHex(r))
				}
			}
			return fail(err)
		},
	}
	cmd.Flags().BoolVar(&rawVerify, "raw-verify", false, "allow VERIFY and CHANGE commands that carry a secret (no retry guard)")
	return cmd
}

// readAPDULines reads one APDU per line, skipping blank lines and comments.
func readAPDULines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no APDU on standard input")
	}
	return out, nil
}
