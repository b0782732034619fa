package main

import (
	"encoding/json"

	"github.com/mynakit/mynakit"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// explain is an error with what to do next (mynakit.Advice).
func explain(err error) string {
	if hint := mynakit.Advice(err); hint != "" {
		return err.Error() + "\n  → " + hint
	}
	return err.Error()
}
