//go:build windows

package nativehost

import (
	"errors"

	"golang.org/x/sys/windows/registry"
)

// setRegistry points HKCU\key's default value at the manifest.
func setRegistry(key, manifest string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if err != nil {
		return err
	}
	defer k.Close()
	return k.SetStringValue("", manifest)
}

func deleteRegistry(key string) error {
	err := registry.DeleteKey(registry.CURRENT_USER, key)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	return err
}
