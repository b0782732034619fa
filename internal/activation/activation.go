// Package activation accepts a listening socket handed over by a service
// manager: systemd's socket activation (the LISTEN_FDS protocol, see
// sd_listen_fds(3)), or any harness that speaks it, such as
// systemd-socket-activate. The bridge then starts on the first connection
// to 127.0.0.1:7457 and the port is held while it restarts.
package activation

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// firstFD is SD_LISTEN_FDS_START: passed descriptors begin at 3.
const firstFD = 3

// maxFDs bounds LISTEN_FDS, which comes from the environment.
const maxFDs = 64

// Errors.
var (
	// ErrNotLoopback: the socket handed over listens on a non-loopback
	// address, which the bridge never serves.
	ErrNotLoopback = errors.New("引き渡されたソケットがループバックではありません the socket handed over is not on loopback")
	// ErrCount: more than one socket was handed over to a command that
	// serves one.
	ErrCount = errors.New("引き渡されたソケットが複数あります more than one socket was handed over")
	// ErrBadEnv: LISTEN_PID/LISTEN_FDS are malformed.
	ErrBadEnv = errors.New("LISTEN_FDS/LISTEN_PID が不正です malformed LISTEN_FDS/LISTEN_PID")
)

// count reads LISTEN_PID and LISTEN_FDS for this process and clears them
// (and LISTEN_FDNAMES) so children do not take the sockets for theirs. It
// returns 0 when nothing was handed over to this process.
func count() (int, error) {
	pidS, fdsS := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	defer func() {
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_FDNAMES")
	}()
	if fdsS == "" {
		return 0, nil
	}
	pid, err := strconv.Atoi(pidS)
	if err != nil {
		return 0, fmt.Errorf("%w: LISTEN_PID", ErrBadEnv)
	}
	if pid != os.Getpid() {
		return 0, nil // meant for another process (our parent)
	}
	n, err := strconv.Atoi(fdsS)
	if err != nil || n < 0 || n > maxFDs {
		return 0, fmt.Errorf("%w: LISTEN_FDS", ErrBadEnv)
	}
	return n, nil
}

// Listener returns the one loopback TCP listener handed over to this
// process, or nil when none was (the caller then listens itself). A socket
// that is not a loopback TCP listener is refused and closed.
func Listener() (net.Listener, error) {
	n, err := count()
	if err != nil || n == 0 {
		return nil, err
	}
	if n != 1 {
		for i := 0; i < n; i++ {
			closeFD(firstFD + i)
		}
		return nil, fmt.Errorf("%w: %d", ErrCount, n)
	}
	return listenerFromFD(firstFD)
}

// checkLoopback accepts TCP listeners on loopback addresses only.
func checkLoopback(ln net.Listener) error {
	a, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !a.IP.IsLoopback() {
		return fmt.Errorf("%w: %s", ErrNotLoopback, ln.Addr())
	}
	return nil
}
