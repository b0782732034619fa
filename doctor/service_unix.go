//go:build unix && !darwin

package doctor

import (
	"context"
	"os"
)

var defaultPolicyDirs = []string{"/etc/opt/chrome/policies/managed", "/etc/chromium/policies/managed", "/etc/opt/edge/policies/managed"}

// pcscdSocket is where pcsc-lite's clients connect (PCSCLITE_CSOCK_NAME
// overrides it, as in libpcsclite).
func pcscdSocket() string {
	if s := os.Getenv("PCSCLITE_CSOCK_NAME"); s != "" {
		return s
	}
	return "/run/pcscd/pcscd.comm"
}

// serviceProbe: pcscd answers on its socket (started already, or by
// systemd's pcscd.socket on this connection).
func serviceProbe(context.Context) ServiceState {
	return SocketProbe(pcscdSocket())
}
