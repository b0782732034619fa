package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/mynakit/mynakit/nativehost"
)

func init() { register(newGenDocsCmd) }

// newGenDocsCmd is the hidden `mynakit gen-docs DIR` that `make dist` runs to
// write the man pages (DIR/man/man1) and the bash, zsh and fish completions
// (DIR/completions) from the commands themselves, and the Web eID
// native-messaging host manifests the packages install
// (DIR/native-messaging/{linux,windows}/BROWSER.json). The pages are dated
// by SOURCE_DATE_EPOCH when set, so two builds give the same bytes.
func newGenDocsCmd(*app) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "Write the man pages and shell completions (for packaging)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return fail(genDocs(cmd.Root(), args[0]))
		},
	}
}

func genDocs(root *cobra.Command, dir string) error {
	date := time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		date = time.Unix(sec, 0).UTC()
	}
	man := filepath.Join(dir, "man", "man1")
	comp := filepath.Join(dir, "completions")
	for _, d := range []string{man, comp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "MYNAKIT", Section: "1", Source: "mynakit", Manual: "mynakit manual", Date: &date}
	if err := doc.GenManTree(root, hdr, man); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	for name, gen := range map[string]func(string) error{
		"mynakit.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
		"_mynakit":     root.GenZshCompletionFile,
		"mynakit.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
	} {
		if err := gen(filepath.Join(comp, name)); err != nil {
			return fmt.Errorf("completion %s: %w", name, err)
		}
	}
	return genManifests(filepath.Join(dir, "native-messaging"))
}

// genManifests writes each browser's manifest for the Linux package
// (/usr/bin/mynakit) and for the Windows installer, where the path is
// relative to the manifest, which the installer puts beside mynakit.exe.
func genManifests(dir string) error {
	for _, goos := range []string{"linux", "windows"} {
		if err := os.MkdirAll(filepath.Join(dir, goos), 0o755); err != nil {
			return err
		}
		for _, b := range nativehost.Browsers {
			m, err := nativehost.Target{Browser: b, GOOS: goos, Executable: "/usr/bin/mynakit"}.Manifest()
			if err != nil {
				return err
			}
			if goos == "windows" {
				var v map[string]any
				if err := json.Unmarshal(m, &v); err != nil {
					return err
				}
				v["path"] = "mynakit.exe"
				if m, err = json.MarshalIndent(v, "", "  "); err != nil {
					return err
				}
			}
			if err := os.WriteFile(filepath.Join(dir, goos, string(b)+".json"), append(m, '\n'), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
