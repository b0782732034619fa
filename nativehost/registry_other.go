//go:build !windows

package nativehost

import "errors"

var errNoRegistry = errors.New("nativehost: the Windows registry is written only on Windows")

func setRegistry(string, string) error { return errNoRegistry }

func deleteRegistry(string) error { return errNoRegistry }
