// Command pack writes the release archives byte for byte the same on every
// build: entries sorted, owned by root, dated SOURCE_DATE_EPOCH, with fixed
// modes. It also stamps the MSI wixl wrote (which dates it now and gives it
// a random package code) with SOURCE_DATE_EPOCH and a code derived from the
// version, and puts the Start-menu entry's Japanese name in place.
//
//	go run ./dist/pack zip OUT.zip DIR PREFIX
//	go run ./dist/pack tgz OUT.tar.gz DIR PREFIX
//	go run ./dist/pack msi FILE.msi OLD-PACKAGE-CODE NEW-PACKAGE-CODE FROM-UNIX TO-UNIX PLACEHOLDER=NAME
//	go run ./dist/pack sbom FILE.cdx.json
//	go run ./dist/pack glibc ELF-FILE   (prints the newest GLIBC_x.y it needs)
//
// The time comes from SOURCE_DATE_EPOCH (required, but for glibc).
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
}

func epoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %v", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func run(args []string) error {
	if len(args) < 1 {
		return errors.New("usage: pack zip|tgz|msi ARGS")
	}
	if args[0] == "glibc" && len(args) == 2 {
		v, err := NeededGlibc(args[1])
		if err != nil {
			return err
		}
		fmt.Println(v)
		return nil
	}
	t, err := epoch()
	if err != nil {
		return err
	}
	switch {
	case args[0] == "zip" && len(args) == 4:
		return writeArchive(args[1], args[2], args[3], t, zipWriter)
	case args[0] == "tgz" && len(args) == 4:
		return writeArchive(args[1], args[2], args[3], t, tgzWriter)
	case args[0] == "sbom" && len(args) == 2:
		b, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		b, err = StampSBOM(b, t)
		if err != nil {
			return err
		}
		return os.WriteFile(args[1], b, 0o644)
	case args[0] == "msi" && len(args) == 7:
		from, err1 := strconv.ParseInt(args[4], 10, 64)
		to, err2 := strconv.ParseInt(args[5], 10, 64)
		old, name, ok := strings.Cut(args[6], "=")
		if err1 != nil || err2 != nil || !ok {
			return errors.New("msi: bad arguments")
		}
		b, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		b, err = StampMSI(b, args[2], args[3], time.Unix(from, 0), time.Unix(to, 0), t, old, name)
		if err != nil {
			return err
		}
		return os.WriteFile(args[1], b, 0o644)
	}
	return fmt.Errorf("unknown command or wrong arguments: %q", args)
}

// entry is one file or directory of an archive.
type entry struct {
	name string // slash-separated, with the prefix
	dir  bool
	mode fs.FileMode
	data []byte
}

// collect walks dir in sorted order; executables keep 0755, the rest 0644.
func collect(dir, prefix string) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		if d.IsDir() {
			out = append(out, entry{name: name + "/", dir: true, mode: 0o755})
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		out = append(out, entry{name: name, mode: mode, data: b})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, err
}

func writeArchive(out, dir, prefix string, t time.Time, w func(io.Writer, []entry, time.Time) error) error {
	es, err := collect(dir, prefix)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := w(&buf, es, t); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func zipWriter(w io.Writer, es []entry, t time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: t}
		h.SetMode(e.mode)
		if e.dir {
			h.Method = zip.Store
			h.SetMode(fs.ModeDir | e.mode)
		}
		f, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func tgzWriter(w io.Writer, es []entry, t time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	gz.ModTime = t
	tw := tar.NewWriter(gz)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: int64(e.mode), ModTime: t, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// NeededGlibc is the newest GLIBC_x.y symbol version an ELF binary
// imports, for the package's libc6 (>= x.y) dependency.
func NeededGlibc(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	syms, err := f.ImportedSymbols()
	if err != nil {
		return "", err
	}
	best := []int{0}
	bestS := ""
	for _, s := range syms {
		v, ok := strings.CutPrefix(s.Version, "GLIBC_")
		if !ok {
			continue
		}
		var parts []int
		for _, p := range strings.Split(v, ".") {
			n, err := strconv.Atoi(p)
			if err != nil {
				parts = nil
				break
			}
			parts = append(parts, n)
		}
		if parts != nil && slices.Compare(parts, best) > 0 {
			best, bestS = parts, v
		}
	}
	if bestS == "" {
		return "", errors.New("no GLIBC symbol version imported")
	}
	return bestS, nil
}

var sbomTime = regexp.MustCompile(`"timestamp":\s*"[^"]*"`)

// StampSBOM dates a CycloneDX document's metadata at t:
// cyclonedx-gomod v1.10.0 writes the time it ran.
func StampSBOM(b []byte, t time.Time) ([]byte, error) {
	loc := sbomTime.FindIndex(b)
	if loc == nil {
		return nil, errors.New("sbom: no metadata timestamp")
	}
	stamp := fmt.Sprintf(`"timestamp": %q`, t.UTC().Format(time.RFC3339))
	return append(append(append([]byte(nil), b[:loc[0]]...), stamp...), b[loc[1]:]...), nil
}

// filetime is a Windows FILETIME: 100 ns since 1601-01-01.
func filetime(t time.Time) uint64 {
	return uint64(t.Unix()+11644473600)*10_000_000 + uint64(t.Nanosecond()/100)
}

// StampMSI makes an MSI written by wixl reproducible. wixl dates the
// summary information now and gives the package a random code: each
// VT_FILETIME (type 0x40) value between from and to becomes at, and the
// package code oldCode becomes newCode (same length, once). It also
// replaces placeholder, an ASCII name in the string pool, with name in
// the database's code page (932), which must encode to the same length:
// wixl cannot write a non-ASCII shortcut name itself.
func StampMSI(b []byte, oldCode, newCode string, from, to, at time.Time, placeholder, name string) ([]byte, error) {
	b = bytes.Clone(b)
	if len(oldCode) != len(newCode) || bytes.Count(b, []byte(oldCode)) != 1 {
		return nil, fmt.Errorf("package code %q: want it once, the same length as %q", oldCode, newCode)
	}
	b = bytes.Replace(b, []byte(oldCode), []byte(newCode), 1)
	enc, err := japanese.ShiftJIS.NewEncoder().String(name)
	if err != nil {
		return nil, fmt.Errorf("name %q in code page 932: %v", name, err)
	}
	if len(enc) != len(placeholder) || bytes.Count(b, []byte(placeholder)) != 1 {
		return nil, fmt.Errorf("placeholder %q: want it once, %d bytes like the name (%d)", placeholder, len(placeholder), len(enc))
	}
	b = bytes.Replace(b, []byte(placeholder), []byte(enc), 1)
	lo, hi, want := filetime(from.Add(-2*time.Second)), filetime(to.Add(2*time.Second)), filetime(at)
	n := 0
	for i := 0; i+12 <= len(b); i++ {
		if binary.LittleEndian.Uint32(b[i:]) != 0x40 {
			continue
		}
		if v := binary.LittleEndian.Uint64(b[i+4:]); v >= lo && v <= hi {
			binary.LittleEndian.PutUint64(b[i+4:], want)
			n++
		}
	}
	if n == 0 {
		return nil, errors.New("no summary-information date of the build found")
	}
	return b, nil
}
