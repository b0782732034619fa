package face

import "github.com/mynakit/mynakit/trust"

// Index is the index.json written beside exported pictures: each picture
// with the signature check that covers it, and the read's verdict. The
// members are in name order.
type Index struct {
	Images  []IndexEntry  `json:"images"`
	Verdict trust.Verdict `json:"verdict"`
}

// IndexEntry is one exported picture: its part, file name, size, whether
// the J-LIS signature covering it passed, and which check that is.
type IndexEntry struct {
	Part     Part            `json:"part"`
	File     string          `json:"file"`
	Bytes    int             `json:"bytes"`
	Verified bool            `json:"verified"`
	Covered  trust.CheckName `json:"covered_by,omitempty"`
}

// NewIndex is the index of ex, exported from a read judged verdict (no
// pictures: images is null).
func NewIndex(ex []Export, verdict trust.Verdict) Index {
	var out Index
	for _, e := range ex {
		out.Images = append(out.Images, IndexEntry{Part: e.Part, File: e.Filename, Bytes: len(e.Data), Verified: e.Verified, Covered: e.Part.CoveredBy()})
	}
	out.Verdict = verdict
	return out
}
