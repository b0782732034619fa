// Command mynakit reads, verifies and signs with Japan's Individual Number
// Card (マイナンバーカード) through any PC/SC reader, and ships a software card
// simulator for development and tests. The card logic is the library
// (package mynakit); this command parses flags, prints and exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mynakit/mynakit/nativehost"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(os.Stdin, os.Stdout, os.Stderr)
	if nativehost.LaunchedByBrowser(os.Args[1:]) {
		// A browser starts a native-messaging host with its own arguments
		// (the extension's origin, or Firefox's manifest path and id).
		root.SetArgs([]string{"native-host"})
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "mynakit:", explain(ee.err))
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "mynakit:", explain(err))
	os.Exit(exitError3)
}

// Exit statuses shared by every command that judges something (read,
// verify, cert show, verify-signature, qr verify).
const (
	exitGenuine        = 0
	exitNotGenuine     = 1
	exitUnknown        = 2
	exitError3         = 3 // the card, the reader, a PIN or the command failed
	exitGenuineExpired = 4 // genuine, but the card or a certificate expired or was revoked
)

// exitUsageOrCard is the historical name of exit status 3.
const exitUsageOrCard = exitError3

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// fail wraps an error as exit status 3.
func fail(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitError3, err: err}
}
