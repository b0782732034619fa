package vpcd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Pullable is a card that can be taken out of the reader and put back:
// the simulator's card. Served with Dial, a pulled card leaves the reader
// empty (pcscd sees it removed) and an inserted one is connected again.
type Pullable interface {
	Remove()
	Insert()
	Present() bool
}

// Control commands, one per line on the control socket.
const (
	CommandPull   = "pull"
	CommandInsert = "insert"
	CommandStatus = "status"
)

// ServeControl answers control commands on ln (a Unix socket in a private
// directory, for a demo or a test that pulls and re-inserts the simulated
// card): "pull", "insert" and "status", each answered with "present" or
// "absent", or "error: ..." for anything else. It returns when ctx ends.
func ServeControl(ctx context.Context, ln net.Listener, card Pullable) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go handleControl(conn, card)
	}
}

func handleControl(conn net.Conn, card Pullable) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 256), 256)
	for sc.Scan() {
		switch strings.TrimSpace(sc.Text()) {
		case CommandPull:
			card.Remove()
		case CommandInsert:
			card.Insert()
		case CommandStatus:
		default:
			fmt.Fprintf(conn, "error: unknown command (want %s, %s or %s)\n", CommandPull, CommandInsert, CommandStatus)
			continue
		}
		state := "absent"
		if card.Present() {
			state = "present"
		}
		fmt.Fprintln(conn, state)
	}
}

// SendControl sends one command to a control socket and returns the
// card's state after it ("present" or "absent").
func SendControl(ctx context.Context, path, command string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return "", fmt.Errorf("simulator control socket %s: %w", path, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintln(conn, command); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("simulator control: %w", err)
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "error: ") {
		return "", errors.New("simulator control: " + strings.TrimPrefix(line, "error: "))
	}
	return line, nil
}
