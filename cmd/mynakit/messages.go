package main

import (
	"errors"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit/myna"

	"github.com/mynakit/mynakit/advice"
)

// explain is an error with what to do next (package advice).
func explain(err error) string {
	if hint := advice.For(err); hint != "" {
		return err.Error() + "\n  → " + hint
	}
	return err.Error()
}

// oneArgOf accepts exactly one argument from values; a missing, extra or
// unknown one is an error that lists the valid values in both languages.
func oneArgOf(ja, en string, values ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == 1 && slices.Contains(values, args[0]) {
			return nil
		}
		return fail(errors.New(advice.Choices(ja, en, values)))
	}
}

// keyNames are the names 'pin verify' takes.
func keyNames() []string {
	var names []string
	for _, k := range myna.AllKeys() {
		names = append(names, string(k.Name))
	}
	return names
}
