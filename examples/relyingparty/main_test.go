package main

import (
	"strings"
	"testing"
)

// Bad flags and a missing anchor directory stop the program before it
// listens.
func TestRunRefusesBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{"extra"},
		{"--test-anchors", t.TempDir() + "/missing"},
		{"--origin", "http://portal.example.jp"},
		{"--no-such-flag"},
	} {
		if err := run(args); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
}
