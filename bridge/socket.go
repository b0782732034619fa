package bridge

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/mynakit/mynakit/rundir"
)

// socketKey marks a request that came over the Unix domain socket.
type socketKey struct{}

// socketPeer is the peer of a socket connection.
type socketPeer struct{ uid int }

// ErrPeer: a process of another OS user connected to the socket.
var ErrPeer = errors.New("a process of another OS user connected to the bridge's socket")

// ErrNoSocket: this system has no peer-credential check the bridge uses.
var ErrNoSocket = errors.New("the Unix domain socket with peer-credential checks is not available on this system (on Windows, a named pipe is future work): use the loopback address")

// ListenUnix opens the bridge's Unix domain socket at path, the preferred
// transport for local applications: the trust boundary is the OS user, as
// for ssh-agent. The socket's folder must pass rundir.Check (this user's,
// mode 0700), the socket is mode 0600, and every connection's peer
// credentials are checked (SO_PEERCRED): a process of another user is
// disconnected before it can send anything. A stale socket of this user at
// path is replaced; anything else there is an error.
func ListenUnix(path string) (net.Listener, error) {
	if err := rundir.Check(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	if !peerCredSupported {
		return nil, ErrNoSocket
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 || privateFile(fi) != nil {
			return nil, fmt.Errorf("socket %s: something else is there", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("socket %s: another bridge is serving it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return &peerListener{UnixListener: ln, uid: os.Geteuid()}, nil
}

// peerListener accepts connections of processes of one OS user only.
type peerListener struct {
	*net.UnixListener
	uid    int
	onDeny func(uid int) // tests
}

// peerConn is a connection whose peer was checked.
type peerConn struct {
	net.Conn
	uid int
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err != nil || uid != l.uid {
			if l.onDeny != nil {
				l.onDeny(uid)
			}
			c.Close()
			continue
		}
		return &peerConn{Conn: c, uid: uid}, nil
	}
}
