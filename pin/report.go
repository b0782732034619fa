package pin

import "github.com/mynakit/mynakit/myna"

// StatusReport is the JSON form of a card's PIN status: every key with its
// tries (an empty list, never null, when the card has none).
type StatusReport struct {
	Keys []KeyStatus `json:"keys"`
}

// NewStatusReport is the report of keys, as Session.Status returns them.
func NewStatusReport(keys []KeyStatus) StatusReport {
	if keys == nil {
		keys = []KeyStatus{}
	}
	return StatusReport{Keys: keys}
}

// ChangeReport is the JSON form of a change of PINs: for each key, in
// order, the value it holds now and why it was not changed.
type ChangeReport struct {
	Keys []ChangeOutcome `json:"keys"`
}

// ChangeOutcome is one key of a ChangeReport.
type ChangeOutcome struct {
	Name      myna.KeyName `json:"name"`
	Applet    string       `json:"applet"`
	Holds     string       `json:"holds"`
	Attempted bool         `json:"attempted"`
	Error     string       `json:"error,omitempty"`
}

// NewChangeReport is the report of results, as Change returns them.
func NewChangeReport(results []ChangeResult) ChangeReport {
	out := ChangeReport{Keys: []ChangeOutcome{}}
	for _, r := range results {
		c := ChangeOutcome{Name: r.Key.Name, Applet: r.Key.Applet.Name(), Holds: string(r.Holds), Attempted: r.Attempted}
		if r.Err != nil {
			c.Error = r.Err.Error()
		}
		out.Keys = append(out.Keys, c)
	}
	return out
}
