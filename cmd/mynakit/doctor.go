package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/doctor"
)

func init() { register(newDoctorCmd) }

// doctorProbes builds the doctor's probes; tests replace it with fakes.
var doctorProbes = doctor.Default

func newDoctorCmd(a *app) *cobra.Command {
	var asJSON bool
	var o doctor.Options
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose this PC for the support desk (PC/SC, readers, card, bridge, browser policy, clock, anchors, access log)",
		Long: `Check what a counter PC needs for mynakit and say how to fix what is wrong,
in Japanese and English: the PC/SC service (pcscd, or the Windows Smart Card
service), the readers and the driver of each, the card's ATR, the runtime
directory of the bridge's launch secret (owner, mode 0700), the bridge and its
API version, the browser's Local Network Access policy (Linux managed
policies), the clock against the trust anchors' validity, the anchors and
their expiry, and the access log's hash chain.

It never prints a secret: not the launch secret, not a log entry, nothing
read from a card but its ATR. Exit status 0 when nothing failed (warnings
included), 1 when a check failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.TrustDirs = a.trustDirs
			r := doctor.Run(cmd.Context(), doctorProbes(o))
			r.Version = version()
			if asJSON {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return fail(err)
				}
			} else {
				printDoctor(a, r)
			}
			if r.Worst() == doctor.Fail {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the findings as JSON")
	fl.StringVar(&o.BridgeURL, "bridge", "http://127.0.0.1:7457", "the bridge's address")
	fl.StringVar(&o.AccessLogDir, "access-log", defaultAccessLogDir(), "folder of the bridge's access log")
	return cmd
}

func printDoctor(a *app, r doctor.Report) {
	fmt.Fprintf(a.out, "mynakit %s\n", r.Version)
	mark := map[doctor.Status]string{doctor.OK: "OK  ", doctor.Warn: "WARN", doctor.Fail: "FAIL", doctor.Skip: "--  "}
	for _, f := range r.Findings {
		subject := ""
		if f.Subject != "" {
			subject = " [" + f.Subject + "]"
		}
		fmt.Fprintf(a.out, "%s %-15s %s%s\n", mark[f.Status], f.Check, f.Message, subject)
		if f.Fix != nil {
			fmt.Fprintf(a.out, "     対処: %s\n     fix:  %s\n", f.Fix.JA, f.Fix.EN)
		}
	}
	switch r.Worst() {
	case doctor.Fail:
		fmt.Fprintln(a.out, "\n問題があります (FAIL の対処を行ってください) problems found: follow the fixes of the FAIL lines")
	case doctor.Warn:
		fmt.Fprintln(a.out, "\n動作しますが注意点があります works, with warnings")
	default:
		fmt.Fprintln(a.out, "\n問題はありません no problems found")
	}
}
