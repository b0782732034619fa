package doctor

import (
	"context"
	"os/exec"
	"strings"
)

var defaultPolicyDirs []string // Windows keeps policies in the registry

// serviceProbe asks the service manager about the Smart Card service.
func serviceProbe(ctx context.Context) ServiceState {
	out, err := exec.CommandContext(ctx, "sc.exe", "query", "SCardSvr").Output()
	s := ServiceState{Name: "SCardSvr"}
	switch {
	case err != nil:
		s.Detail = err.Error()
	case strings.Contains(string(out), "RUNNING"):
		s.Running, s.Detail = true, "service running"
	default:
		s.Detail = "service not running"
	}
	return s
}
