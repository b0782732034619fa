package doctor

import "context"

var defaultPolicyDirs []string // macOS keeps policies in configuration profiles

// serviceProbe: PC/SC is part of macOS (CryptoTokenKit's ctkpcscd).
func serviceProbe(context.Context) ServiceState {
	return ServiceState{Running: true, Name: "PC/SC", Detail: "built into macOS"}
}
