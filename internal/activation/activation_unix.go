//go:build unix

package activation

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

func closeFD(fd int) { _ = syscall.Close(fd) }

func listenerFromFD(fd int) (net.Listener, error) {
	syscall.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), "LISTEN_FD_3")
	defer f.Close() // net.FileListener dups it
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("引き渡されたソケット socket handed over: %w", err)
	}
	if err := checkLoopback(ln); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
