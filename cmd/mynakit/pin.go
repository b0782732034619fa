package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

func init() { register(newPINCmd) }

func newPINCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "PIN status and changes (暗証番号の状態と変更)",
	}
	cmd.AddCommand(newPINStatusCmd(a), newPINChangeCmd(a), newPINVerifyCmd(a))
	return cmd
}

func newPINStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Tries left on every key of every applet, without using a try",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			card, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer card.Close()
			keys, err := card.PINStatus(cmd.Context())
			if err != nil {
				return fail(err)
			}
			if asJSON {
				return writeJSON(a, pin.NewStatusReport(keys))
			}
			tw := &table{width: termWidth(a.out)}
			tw.add("KEY", "APPLET", "TRIES LEFT", "STATE")
			assumed := false
			for _, k := range keys {
				state := "ok"
				switch {
				case k.Blocked:
					state = "BLOCKED (ロック): only the municipality can unblock it"
				case k.Verified:
					state = "verified"
				case k.Remaining == 1:
					state = "LAST TRY: mynakit will not use it without --allow-last-try"
				}
				tries := fmt.Sprintf("%d/%d", k.Remaining, k.Max)
				if k.MaxAssumed {
					tries += "?"
					assumed = true
				}
				tw.add(string(k.Name), appletLabel(k.Applet), tries, state)
			}
			tw.write(a.out)
			if assumed {
				fmt.Fprintln(a.out, "?: the card does not report its limits and no source gives this one; the maximum shown is assumed")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func appletLabel(name string) string {
	for _, ap := range myna.AllApplets() {
		if ap.Name() == name {
			return ap.JapaneseName() + " (" + name + ")"
		}
	}
	return name
}

func newPINChangeCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "change short|sign",
		Short: "Change every 4-digit PIN to one new value (short), or the signing password (sign)",
		Long: `change short: asks the current 4-digit PIN once and the new one twice, then
changes the JPKI user-authentication PIN, the 券面事項入力補助AP PIN and the
共通/住基 PINs to the new value, one after the other. If the card refuses
part-way, the report says which keys hold the new value and which the old.

change sign: changes the 署名用パスワード (signing password).

With --pin-stdin give the lines in this order: current, new, new again.`,
		Args:      oneArgOf("変更する暗証番号", "which secret to change", "short", "sign"),
		ValidArgs: []string{"short", "sign"},
		RunE: func(cmd *cobra.Command, args []string) error {
			var names []myna.KeyName
			switch args[0] {
			case "short":
				names = myna.ShortPINKeys()
			case "sign":
				names = []myna.KeyName{myna.KeyJPKISignPassword}
			default:
				return fail(fmt.Errorf("change what? %q (want short or sign)", args[0]))
			}
			ctx := cmd.Context()
			card, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer card.Close()
			results, cerr := card.ChangePINs(ctx, names, func(ctx context.Context, kind myna.Secret) ([]byte, error) {
				return askNew(ctx, a.prompter(), kind)
			})
			report(a, results, asJSON)
			return fail(cerr)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the per-key report as JSON")
	return cmd
}

// askNew asks for a new secret twice and returns it validated.
func askNew(ctx context.Context, p pin.Prompter, kind myna.Secret) ([]byte, error) {
	var vals [2][]byte
	for i, purpose := range []string{"new", "confirm"} {
		raw, err := p.Prompt(ctx, pin.Request{Kind: kind, Remaining: -1, Purpose: purpose})
		if err != nil {
			return nil, err
		}
		vals[i], err = pin.Normalize(kind, raw)
		pin.Wipe(raw)
		if err != nil {
			pin.Wipe(vals[0])
			return nil, fmt.Errorf("new %s: %w; nothing was changed", kind, err)
		}
	}
	defer pin.Wipe(vals[1])
	if !bytes.Equal(vals[0], vals[1]) {
		pin.Wipe(vals[0])
		return nil, errors.New("the two new values differ; nothing was changed")
	}
	return vals[0], nil
}

func report(a *app, results []pin.ChangeResult, asJSON bool) {
	if asJSON {
		_ = writeJSON(a, pin.NewChangeReport(results))
		return
	}
	for _, r := range results {
		line := fmt.Sprintf("%-20s %s: holds the %s value", r.Key.Name, appletLabel(r.Key.Applet.Name()), r.Holds)
		switch {
		case r.Err != nil:
			line += " (refused: " + r.Err.Error() + ")"
		case !r.Attempted:
			line += " (not attempted: the change stopped)"
		}
		fmt.Fprintln(a.out, line)
	}
}

func newPINVerifyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "verify KEY",
		Short: "Check a PIN or password against the card (uses a try only when wrong; never the last one unless allowed)",
		Long: `Check a secret against one key, e.g. 'mynakit pin verify jpki-auth-pin'.
Keys: jpki-auth-pin, jpki-sign-password, text-pin, common-pin, juki-pin,
text-code-a, text-code-b, surface-code-a, surface-code-b.

The tries left are read first without using one; when a wrong secret would
block the key, nothing is sent unless --allow-last-try is given.`,
		Args: oneArgOf("確認する鍵", "the key to check", keyNames()...),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, ok := myna.KeyByName(myna.KeyName(args[0]))
			if !ok {
				return fail(fmt.Errorf("unknown key %q (see --help)", args[0]))
			}
			ctx := cmd.Context()
			card, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer card.Close()
			if err := card.VerifyPIN(ctx, key.Name); err != nil {
				return fail(err)
			}
			fmt.Fprintf(a.out, "%s: correct\n", key.Name)
			return nil
		},
	}
}
