//go:build !cgo && !windows

package pcsc

import "context"

// Watcher is unavailable without cgo.
type Watcher struct{}

// Watch is unavailable without cgo.
func (c *Context) Watch() *Watcher { return &Watcher{} }

// Next reports that PC/SC is not available in this build.
func (w *Watcher) Next(context.Context) ([]ReaderState, error) { return nil, errNoCgo }
