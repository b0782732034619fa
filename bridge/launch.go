package bridge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mynakit/mynakit/rundir"
)

// Launch is what a running bridge leaves in the user's runtime directory
// (see package rundir) for the programs of the same OS user: the launch
// secret, from which the one-time counter URLs and the local applications'
// tokens are derived, and where the bridge is reached. The file is mode
// 0600 in a directory of mode 0700, so another OS user cannot read it; a
// new one is written at every start, which makes every earlier token and
// URL worthless.
type Launch struct {
	Secret []byte `json:"secret"`
	URL    string `json:"url"`              // http://127.0.0.1:PORT
	Socket string `json:"socket,omitempty"` // the Unix domain socket, when served
	PID    int    `json:"pid"`
}

// LaunchFile is the launch file's name in the runtime directory.
const LaunchFile = "bridge.json"

// SocketFile is the default Unix domain socket's name in the runtime
// directory.
const SocketFile = "bridge.sock"

// secretSize is the launch secret's length in bytes.
const secretSize = 32

// Errors of the launch file.
var (
	ErrNoLaunch  = errors.New("ブリッジが動いていません no running bridge: no launch file (start mynakit serve)")
	ErrBadLaunch = errors.New("the launch file is not private to this user or is damaged")
)

// NewSecret returns a fresh random launch secret.
func NewSecret() []byte {
	s := make([]byte, secretSize)
	if _, err := rand.Read(s); err != nil {
		panic(err)
	}
	return s
}

// WriteLaunch writes l to dir/LaunchFile, mode 0600, replacing the file
// atomically. dir must pass rundir.Check (owned by the user, mode 0700, not
// a link); nothing is written otherwise.
func WriteLaunch(dir string, l Launch) error {
	if err := rundir.Check(dir); err != nil {
		return err
	}
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	// O_EXCL|O_NOFOLLOW with an unpredictable name: nothing is written
	// through a link planted in advance.
	tmp := filepath.Join(dir, ".bridge-"+randomID()+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		return fmt.Errorf("launch file: %w", err)
	}
	_, werr := f.Write(data)
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(dir, LaunchFile))
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("launch file: %w", werr)
	}
	return nil
}

// RemoveLaunch removes dir/LaunchFile if it is still the one written for
// secret (a newer bridge's file is left alone).
func RemoveLaunch(dir string, secret []byte) {
	l, err := ReadLaunch(dir)
	if err == nil && hmac.Equal(l.Secret, secret) {
		os.Remove(filepath.Join(dir, LaunchFile))
	}
}

// ReadLaunch reads the launch file of the bridge running for this user. The
// directory must pass rundir.Check and the file must be a regular file of
// this user that no one else may read.
func ReadLaunch(dir string) (*Launch, error) {
	if err := rundir.Check(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNoLaunch
		}
		return nil, err
	}
	path := filepath.Join(dir, LaunchFile)
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, ErrNoLaunch
		}
		return nil, fmt.Errorf("%w: %v", ErrBadLaunch, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 4096 {
		return nil, fmt.Errorf("%w: not a small regular file", ErrBadLaunch)
	}
	if err := privateFile(fi); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadLaunch, err)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadLaunch, err)
	}
	var l Launch
	if err := json.Unmarshal(data, &l); err != nil || len(l.Secret) != secretSize || l.URL == "" {
		return nil, fmt.Errorf("%w: damaged", ErrBadLaunch)
	}
	return &l, nil
}

// appNameRE is what a local application may call itself.
var appNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// ErrAppName: a local application's name is 1 to 32 of a-z, 0-9, '.', '_'
// and '-', starting with a letter or digit.
var ErrAppName = errors.New("an application name is 1 to 32 of a-z 0-9 . _ - (starting with a letter or digit)")

// AppToken is the API token of the local application name, derived from
// the launch secret: "app." + name + "." + HMAC-SHA256(secret,
// "local-app:" + name). Each name is its own principal, with its own
// operations and streams.
func (l *Launch) AppToken(name string) (string, error) { return appToken(l.Secret, name) }

func appToken(secret []byte, name string) (string, error) {
	if !appNameRE.MatchString(name) {
		return "", ErrAppName
	}
	return "app." + name + "." + base64.RawURLEncoding.EncodeToString(mac(secret, "local-app:"+name)), nil
}

// checkAppToken returns the application a token names, if its MAC is
// right.
func checkAppToken(secret []byte, tok string) (string, bool) {
	rest, ok := strings.CutPrefix(tok, "app.")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", false
	}
	name, sum := rest[:i], rest[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(sum)
	if err != nil || !appNameRE.MatchString(name) {
		return "", false
	}
	return name, hmac.Equal(got, mac(secret, "local-app:"+name))
}

// OpenURL is a one-time URL that opens the counter page, valid for ttl:
// http://127.0.0.1:PORT/#ticket=…. The ticket is in the fragment, which
// the browser sends to no server and puts in no Referer; the counter
// page's script exchanges it, once, for a session token (POST
// /v1/session) that it keeps in its origin's sessionStorage.
func (l *Launch) OpenURL(now time.Time, ttl time.Duration) string {
	return l.URL + "/#ticket=" + ticket(l.Secret, now.Add(ttl))
}

// ticket is exp.nonce.mac, exp in Unix seconds.
func ticket(secret []byte, exp time.Time) string {
	body := strconv.FormatInt(exp.Unix(), 10) + "." + randomID()
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(secret, "open:"+body))
}

// maxTicketTTL bounds how far ahead a ticket may expire.
const maxTicketTTL = 24 * time.Hour

// checkTicket returns a valid ticket's nonce and expiry.
func checkTicket(secret []byte, t string, now time.Time) (nonce string, exp time.Time, ok bool) {
	i := strings.LastIndexByte(t, '.')
	if i <= 0 || len(t) > 256 {
		return "", time.Time{}, false
	}
	body, sum := t[:i], t[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(sum)
	if err != nil || !hmac.Equal(got, mac(secret, "open:"+body)) {
		return "", time.Time{}, false
	}
	ts, nonce, found := strings.Cut(body, ".")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !found || err != nil || nonce == "" {
		return "", time.Time{}, false
	}
	exp = time.Unix(sec, 0)
	if !now.Before(exp) || exp.Sub(now) > maxTicketTTL {
		return "", time.Time{}, false
	}
	return nonce, exp, true
}

// encodeMAC is mac in base64url, as tokens carry it.
func encodeMAC(secret []byte, msg string) []byte {
	return []byte(base64.RawURLEncoding.EncodeToString(mac(secret, msg)))
}

func mac(secret []byte, msg string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
