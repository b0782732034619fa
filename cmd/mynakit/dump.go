package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/atomicfile"
)

func init() { register(newDumpCmd) }

func newDumpCmd(a *app) *cobra.Command {
	var out string
	var withSign bool
	cmd := &cobra.Command{
		Use:   "dump",
		Short: "Everything readable, as a card image (no keys) for replay in the simulator",
		Long: `Read every file, record and MF-level data object the card lets you read and
write them as a card image ("mynakit-card-image/1"). Key EFs are listed with
their tries left but no value, and no private key is included: a simulator
running the dump refuses to sign, as a card without its keys would, so a dump
replayed as a card is never genuine.

The signing certificate needs the signing password; add --sign-cert to
include it. The dump contains the My Number: --out writes it with mode 0600,
as a new file, never through a symbolic link.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			card, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer card.Close()
			img, err := card.Dump(ctx, mynakit.DumpOptions{SignCert: withSign, Progress: func(s string) { fmt.Fprintf(a.err, "reading %s ...\n", s) }})
			if err != nil {
				return fail(err)
			}
			b, err := img.Marshal()
			if err != nil {
				return err
			}
			if out == "" {
				_, err = fmt.Fprintln(a.out, string(b))
				return err
			}
			if err := atomicfile.WriteFile(out, append(b, '\n'), atomicfile.Private); err != nil {
				return fail(err)
			}
			fmt.Fprintf(a.err, "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the image to this file (mode 0600) instead of standard output")
	cmd.Flags().BoolVar(&withSign, "sign-cert", false, "include the signing certificate (asks for the signing password)")
	return cmd
}
