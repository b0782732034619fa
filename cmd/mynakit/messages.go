package main

import (
	"encoding/json"

	"github.com/mynakit/mynakit/advice"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// explain is an error with what to do next (package advice).
func explain(err error) string {
	if hint := advice.For(err); hint != "" {
		return err.Error() + "\n  → " + hint
	}
	return err.Error()
}
