// Package cardimage is the card-image format: a JSON document holding
// everything a card shows — the ATR, the MF-level GET DATA objects, and per
// applet its files, its key EFs with their retry counters and, for a
// simulated card, the values and private keys. The simulator runs an image;
// mynakit's dump writes one from a real card (without keys). The format is a
// data contract of its own so that reading code never depends on the
// simulator.
package cardimage

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ImageFormat is the value of the "format" member of every card image.
const ImageFormat = "mynakit-card-image/1"

// Image is a card image: everything a simulated card holds. Its JSON form is
// the exchange format other tools write and edit:
//
//	{
//	  "format": "mynakit-card-image/1",
//	  "atr": "<hex>",
//	  "get_data": {"<tag hex>": "<hex>"},            // MF-level GET DATA objects (optional)
//	  "applets": {
//	    "<AID hex>": {
//	      "files": {
//	        "<FID hex>": {"data": "<hex>", "access": "none"},          // transparent EF
//	        "<FID hex>": {"records": ["<hex>", ...], "access": "none"} // record EF
//	      },
//	      "keys": {"<FID hex>": {"value": "<ASCII secret>", "remaining": N, "max": N}},
//	      "private_keys": {"<FID hex>": "<PKCS#8 PEM>"}
//	    }
//	  }
//	}
//
// Access is "none" (free), or one or more "pin:<key FID>" joined by "|": the
// file opens once any one of the named key EFs of the same applet has been
// verified in this session. A key without "value" (an image dumped from a
// real card) can never be verified. A key EF listed in private_keys signs with
// COMPUTE DIGITAL SIGNATURE; what it needs first is given by the key EF's
// own entry in files ("access"), if any, and is otherwise the card's rule.
type Image struct {
	Format  string              `json:"format"`
	ATR     HexBytes            `json:"atr"`
	GetData map[string]HexBytes `json:"get_data,omitempty"`
	Applets map[string]*Applet  `json:"applets"`
}

// Applet is one application of a card image.
type Applet struct {
	Files       map[string]*File  `json:"files,omitempty"`
	Keys        map[string]*Key   `json:"keys,omitempty"`
	PrivateKeys map[string]string `json:"private_keys,omitempty"`
	// Replay makes the applet behave as a clone of a card whose keys it
	// does not hold: it answers GET CHALLENGE with one recorded challenge
	// and a signature with the applet's default key with one recorded
	// signature. It exists to test that readers reject such clones.
	Replay *Replay `json:"replay,omitempty"`
}

// Replay is one recorded presence proof (docs/card.md §5.9).
type Replay struct {
	Challenge HexBytes `json:"challenge"`
	Signature HexBytes `json:"signature"`
}

// File is one EF: transparent (Data) or record-structured (Records).
type File struct {
	Data    HexBytes   `json:"data,omitempty"`
	Records []HexBytes `json:"records,omitempty"`
	Access  string     `json:"access"`
}

// Key is a key EF holding a secret and its retry counter.
type Key struct {
	Value     *Secret `json:"value,omitempty"`
	Remaining int     `json:"remaining"`
	Max       int     `json:"max"`
}

// Secret is a key value. It prints as [REDACTED] so a key can never leak
// through fmt or a log; only JSON marshalling writes the value (an image file
// holds secrets by design).
type Secret string

func (Secret) String() string   { return "[REDACTED]" }
func (Secret) GoString() string { return "[REDACTED]" }

// HexBytes is a byte slice written as a hex string in JSON.
type HexBytes []byte

// MarshalJSON writes lower-case hex.
func (h HexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

// UnmarshalJSON accepts hex with optional spaces or colons.
func (h *HexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	s = strings.NewReplacer(" ", "", ":", "", "\n", "", "\t", "").Replace(s)
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("bad hex: %w", err)
	}
	*h = v
	return nil
}

// ParseFID parses a 4-hex-digit file identifier.
func ParseFID(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 16, 16)
	if err != nil || len(s) != 4 {
		return 0, fmt.Errorf("file identifier %q is not 4 hex digits", s)
	}
	return uint16(v), nil
}

// FIDString formats a file identifier as the image writes it.
func FIDString(fid uint16) string { return fmt.Sprintf("%04X", fid) }

// ParseAccess parses an access condition into the key FIDs that open the
// file; an empty list means free.
func ParseAccess(s string) ([]uint16, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	var out []uint16
	for _, part := range strings.Split(s, "|") {
		fid, ok := strings.CutPrefix(strings.TrimSpace(part), "pin:")
		if !ok {
			return nil, fmt.Errorf("access %q: want none or pin:<FID>[|pin:<FID>...]", s)
		}
		v, err := ParseFID(fid)
		if err != nil {
			return nil, fmt.Errorf("access %q: %w", s, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// AccessString formats the keys that open a file as an access condition.
func AccessString(keys []uint16) string {
	if len(keys) == 0 {
		return "none"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = "pin:" + FIDString(k)
	}
	return strings.Join(parts, "|")
}

// Validate checks the image's structure: format, hex identifiers, access
// conditions naming keys that exist, counters in range.
func (img *Image) Validate() error {
	if img.Format != ImageFormat {
		return fmt.Errorf("card image: format %q, want %q", img.Format, ImageFormat)
	}
	if len(img.ATR) < 2 {
		return fmt.Errorf("card image: ATR of %d bytes", len(img.ATR))
	}
	for tag := range img.GetData {
		if _, err := ParseFID(tag); err != nil {
			return fmt.Errorf("card image: get_data tag: %w", err)
		}
	}
	aids := make([]string, 0, len(img.Applets))
	for aid := range img.Applets {
		aids = append(aids, aid)
	}
	sort.Strings(aids)
	for _, aid := range aids {
		ap := img.Applets[aid]
		raw, err := hex.DecodeString(aid)
		if err != nil || len(raw) < 5 || len(raw) > 16 {
			return fmt.Errorf("card image: applet %q is not a 5-16 byte hex AID", aid)
		}
		if ap == nil {
			return fmt.Errorf("card image: applet %s is empty", aid)
		}
		for fid, f := range ap.Files {
			if _, err := ParseFID(fid); err != nil {
				return fmt.Errorf("card image: applet %s: %w", aid, err)
			}
			if f == nil {
				return fmt.Errorf("card image: applet %s file %s is empty", aid, fid)
			}
			if f.Data != nil && f.Records != nil {
				return fmt.Errorf("card image: applet %s file %s has both data and records", aid, fid)
			}
			keys, err := ParseAccess(f.Access)
			if err != nil {
				return fmt.Errorf("card image: applet %s file %s: %w", aid, fid, err)
			}
			for _, k := range keys {
				if _, ok := ap.Keys[FIDString(k)]; !ok {
					return fmt.Errorf("card image: applet %s file %s: access names key %04X, which the applet lacks", aid, fid, k)
				}
			}
		}
		for fid, k := range ap.Keys {
			if _, err := ParseFID(fid); err != nil {
				return fmt.Errorf("card image: applet %s key: %w", aid, err)
			}
			if k == nil || k.Max < 0 || k.Max > 15 || k.Remaining < 0 || k.Remaining > k.Max {
				return fmt.Errorf("card image: applet %s key %s: remaining/max out of range (0 <= remaining <= max <= 15)", aid, fid)
			}
		}
		for fid := range ap.PrivateKeys {
			if _, err := ParseFID(fid); err != nil {
				return fmt.Errorf("card image: applet %s private key: %w", aid, err)
			}
		}
	}
	return nil
}

// ParseImage decodes and validates a card image.
func ParseImage(b []byte) (*Image, error) {
	var img Image
	if err := json.Unmarshal(b, &img); err != nil {
		return nil, fmt.Errorf("card image: %w", err)
	}
	if err := img.Validate(); err != nil {
		return nil, err
	}
	return &img, nil
}

// MaxImageSize bounds a card image file: a real card holds well under
// 100 KB, and hex doubles it.
const MaxImageSize = 16 << 20

// LoadError is a card image file that could not be loaded: which file, and
// where in it (line and column, 1-based, when the JSON itself is broken).
type LoadError struct {
	Path         string
	Line, Column int // 0 when the position is not known
	Err          error
}

func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("card image %s, line %d column %d: %v", e.Path, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("card image %s: %v", e.Path, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

// LoadImage reads a card image file: a regular file of at most
// MaxImageSize bytes. Errors are *LoadError, naming the file and, for
// broken JSON, the line and column.
func LoadImage(path string) (*Image, error) {
	fail := func(err error) (*Image, error) { return nil, &LoadError{Path: path, Err: err} }
	// Stat before opening: opening a FIFO would wait for a writer.
	if fi, err := os.Stat(path); err != nil {
		return fail(err)
	} else if !fi.Mode().IsRegular() {
		return fail(fmt.Errorf("not a regular file"))
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if !fi.Mode().IsRegular() {
		return fail(fmt.Errorf("not a regular file"))
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxImageSize+1))
	if err != nil {
		return fail(err)
	}
	if len(b) > MaxImageSize {
		return fail(fmt.Errorf("larger than %d bytes", MaxImageSize))
	}
	img, err := ParseImage(b)
	if err != nil {
		le := &LoadError{Path: path, Err: err}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			le.Line, le.Column = position(b, syn.Offset)
		case errors.As(err, &typ):
			le.Line, le.Column = position(b, typ.Offset)
		}
		return nil, le
	}
	return img, nil
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int64) (line, col int) {
	if off < 0 || off > int64(len(b)) {
		return 0, 0
	}
	line, col = 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// Marshal encodes the image as indented JSON.
func (img *Image) Marshal() ([]byte, error) { return json.MarshalIndent(img, "", "  ") }
