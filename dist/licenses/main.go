// Command licenses collects the licence of every Go module linked into
// mynakit — on each platform a release is built for — into one bundle
// (THIRD_PARTY_LICENSES.txt), and fails when a module's licence is missing
// or is not one of the few it knows. A new dependency under an unknown
// licence then stops `make test` until someone reads it and adds it here.
//
//	go run ./dist/licenses -o THIRD_PARTY_LICENSES.txt
//	go run ./dist/licenses -check
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// targets are the platforms a release is built for; a module linked on any
// of them is in the bundle.
var targets = [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"windows", "amd64"}, {"darwin", "arm64"}, {"darwin", "amd64"}}

// Module is one linked module and its licence.
type Module struct {
	Path, Version, Dir string
	License            string // SPDX identifier, "" when unknown
	Files              []string
}

func main() {
	out := flag.String("o", "", "write the bundle to this file")
	check := flag.Bool("check", false, "only check that every linked module has a known licence")
	pkg := flag.String("pkg", "./cmd/mynakit", "the main package whose dependencies are collected")
	flag.Parse()
	mods, err := Collect(*pkg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "licenses:", err)
		os.Exit(2)
	}
	if bad := Unknown(mods); len(bad) > 0 {
		for _, m := range bad {
			fmt.Fprintf(os.Stderr, "licenses: %s %s: no licence file or an unknown licence (files: %v); read it, and if it may be shipped add it to dist/licenses\n", m.Path, m.Version, m.Files)
		}
		os.Exit(1)
	}
	if *check {
		fmt.Printf("licenses: %d linked modules, every licence known\n", len(mods))
		return
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "licenses:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = f
	}
	if err := Write(w, mods); err != nil {
		fmt.Fprintln(os.Stderr, "licenses:", err)
		os.Exit(2)
	}
}

// Collect lists the modules linked into pkg on every target platform (cgo
// on, as releases are built), with their licence files and classification.
func Collect(pkg string) ([]Module, error) {
	seen := map[string]*Module{}
	for _, t := range targets {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Version}}\t{{with .Replace}}{{.Dir}}{{else}}{{.Dir}}{{end}}{{end}}{{end}}", pkg)
		cmd.Env = append(os.Environ(), "GOOS="+t[0], "GOARCH="+t[1], "CGO_ENABLED=1", "GOFLAGS=-mod=mod")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list (%s/%s): %v\n%s", t[0], t[1], err, stderr.String())
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Split(sc.Text(), "\t")
			if len(f) != 3 || seen[f[0]] != nil {
				continue
			}
			seen[f[0]] = &Module{Path: f[0], Version: f[1], Dir: f[2]}
		}
	}
	// The Go standard library and runtime are linked too.
	env, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %v", err)
	}
	if f := strings.Fields(string(env)); len(f) == 2 {
		seen["std"] = &Module{Path: "std", Version: f[1], Dir: f[0]}
	}
	var mods []Module
	for _, m := range seen {
		if err := m.load(); err != nil {
			return nil, err
		}
		mods = append(mods, *m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	return mods, nil
}

var licenceName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|patents)([.-].*)?$`)

func (m *Module) load() error {
	if m.Dir == "" {
		return fmt.Errorf("%s %s: not in the module cache (run go mod download)", m.Path, m.Version)
	}
	entries, err := os.ReadDir(m.Dir)
	if err != nil {
		return err
	}
	var lic []string
	for _, e := range entries {
		if e.Type().IsRegular() && licenceName.MatchString(e.Name()) {
			m.Files = append(m.Files, e.Name())
			if n := strings.ToLower(e.Name()); !strings.HasPrefix(n, "notice") && !strings.HasPrefix(n, "patents") {
				b, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
				if err != nil {
					return err
				}
				lic = append(lic, string(b))
			}
		}
	}
	sort.Strings(m.Files)
	if len(lic) == 1 {
		m.License = Classify(lic[0])
	}
	return nil
}

// Unknown returns the modules whose licence is missing or unrecognised.
func Unknown(mods []Module) []Module {
	var bad []Module
	for _, m := range mods {
		if m.License == "" {
			bad = append(bad, m)
		}
	}
	return bad
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func norm(s string) string {
	return " " + strings.TrimSpace(nonWord.ReplaceAllString(strings.ToLower(s), " ")) + " "
}

// known licences, each recognised by phrases its text must all contain and
// phrases it must not (norm form). Only permissive licences compatible with
// shipping in an Apache-2.0 release are listed.
var known = []struct {
	id      string
	must    []string
	mustNot []string
}{
	{"Apache-2.0", []string{"apache license", "version 2 0", "grant of copyright license", "redistribution"}, nil},
	{"MIT", []string{"permission is hereby granted free of charge", "the above copyright notice and this permission notice shall be included"}, nil},
	{"BSD-3-Clause", []string{"redistribution and use in source and binary forms", "redistributions of source code must retain", "neither the name of", "endorse or promote products"}, nil},
	{"BSD-2-Clause", []string{"redistribution and use in source and binary forms", "redistributions of source code must retain", "redistributions in binary form must reproduce"}, []string{"endorse or promote", "neither the name"}},
	{"ISC", []string{"permission to use copy modify and or distribute this software for any purpose with or without fee is hereby granted"}, nil},
	{"MPL-2.0", []string{"mozilla public license version 2 0"}, nil},
}

// Classify names a licence text's SPDX expression, or "" when it is none
// of the known ones. A file holding two known licences (a port under MIT
// beside its original's Apache-2.0) is both: "Apache-2.0 AND MIT".
func Classify(text string) string {
	t := norm(text)
	var found []string
outer:
	for _, k := range known {
		for _, p := range k.must {
			if !strings.Contains(t, " "+p+" ") {
				continue outer
			}
		}
		for _, p := range k.mustNot {
			if strings.Contains(t, " "+p+" ") {
				continue outer
			}
		}
		found = append(found, k.id)
	}
	return strings.Join(found, " AND ")
}

// Write writes the bundle: a table, then each module's licence and notice
// files verbatim.
func Write(w io.Writer, mods []Module) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "Third-party software linked into mynakit")
	fmt.Fprintln(bw, "========================================")
	fmt.Fprintln(bw)
	for _, m := range mods {
		fmt.Fprintf(bw, "%-50s %-40s %s\n", m.Path, m.Version, m.License)
	}
	for _, m := range mods {
		for _, f := range m.Files {
			b, err := os.ReadFile(filepath.Join(m.Dir, f))
			if err != nil {
				return err
			}
			fmt.Fprintf(bw, "\n\n==== %s %s — %s (%s) ====\n\n", m.Path, m.Version, f, m.License)
			bw.Write(bytes.TrimRight(b, "\n"))
			fmt.Fprintln(bw)
		}
	}
	return bw.Flush()
}
