// Command relyingparty is an example web portal that logs people in with
// the My Number Card through the mynakit bridge: GET / is the login page,
// GET /challenge issues a nonce bound to the session cookie, the page has
// the card sign it through the bridge (Web eID 1.0 token), and POST /login
// validates the token with webeid.Validator and shows the identity.
//
//	go run ./examples/relyingparty --listen 127.0.0.1:8080 \
//	    --bridge http://127.0.0.1:8731 --test-anchors simulator/testdata/trust
//
// Start the bridge with --allow-origin http://127.0.0.1:8080 (the origin
// this app is served from), and open the counter page once (mynakit open):
// the holder answers the pairing and the PIN there.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/mynakit/mynakit/examples/relyingparty/rp"
	"github.com/mynakit/mynakit/trust"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "relyingparty:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("relyingparty", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	origin := fs.String("origin", "", "this site's origin as browsers see it (default http://LISTEN)")
	bridgeURL := fs.String("bridge", "http://127.0.0.1:8731", "the mynakit bridge's URL")
	testAnchors := fs.String("test-anchors", "", "also trust the anchors in `DIR` (e.g. simulator/testdata/trust); development only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("unexpected arguments")
	}
	if *origin == "" {
		*origin = "http://" + *listen
	}
	store := trust.Embedded()
	if *testAnchors != "" {
		if err := store.AddDir(*testAnchors); err != nil {
			return err
		}
	}
	s, err := rp.New(rp.Config{Origin: *origin, Bridge: *bridgeURL, Trust: store, AllowTestAnchors: *testAnchors != ""})
	if err != nil {
		return err
	}
	log.Printf("relying party on %s (origin %s, bridge %s)", *listen, *origin, *bridgeURL)
	srv := &http.Server{Addr: *listen, Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	return srv.ListenAndServe()
}
