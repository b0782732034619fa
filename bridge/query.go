package bridge

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxQuery bounds a query string.
const maxQuery = 256

// parseQuery reads a query string that may hold only the named
// parameters, each at most once.
func parseQuery(raw string, allowed ...string) (map[string]string, error) {
	if len(raw) > maxQuery {
		return nil, errors.New("query too long")
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errors.New("query is not valid")
	}
	out := map[string]string{}
	for k, vals := range v {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, fmt.Errorf("unknown parameter %q", k)
		}
		if len(vals) != 1 {
			return nil, fmt.Errorf("parameter %q given %d times", k, len(vals))
		}
		out[k] = vals[0]
	}
	return out, nil
}

func boolParam(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}
