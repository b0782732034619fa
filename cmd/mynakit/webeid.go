package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/nativehost"
	"github.com/mynakit/mynakit/pinentry"
	"github.com/mynakit/mynakit/webeid"
)

func init() {
	register(newAuthenticateCmd)
	register(newNativeHostCmd)
}

func newAuthenticateCmd(a *app) *cobra.Command {
	var origin, nonce string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "authenticate --origin URL --nonce BASE64",
		Short: "Make a Web eID login token (web-eid:1.0) for a site with the user-authentication key",
		Long: `Sign hash(origin) ‖ hash(nonce) with the 利用者証明用電子証明書's key (asks for
the 4-digit PIN) and print the Web eID 1.0 authentication token a web portal
validates. The nonce is the site's challenge: base64, at least 256 bits.
Without --json a summary goes to standard error and the token to standard
output; with --json only the token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if origin == "" || nonce == "" {
				return fail(fmt.Errorf("both --origin (https://host[:port]) and --nonce (base64, ≥ 256 bits) are needed"))
			}
			card, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer card.Close()
			tok, err := webeid.Authenticate(cmd.Context(), card, origin, nonce)
			if err != nil {
				return fail(err)
			}
			if !asJSON {
				canon, _ := webeid.CanonicalOrigin(origin)
				fmt.Fprintf(a.err, "ログイントークン login token: %s, %s, for %s\n", tok.Format, tok.Algorithm, canon)
			}
			enc := json.NewEncoder(a.out)
			if asJSON {
				enc.SetIndent("", "  ")
			}
			return fail(enc.Encode(tok))
		},
	}
	cmd.Flags().StringVar(&origin, "origin", "", "the relying party's origin, https://host[:port]")
	cmd.Flags().StringVar(&nonce, "nonce", "", "the relying party's challenge nonce (base64, at least 256 bits)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print only the token, indented")
	return cmd
}

func newNativeHostCmd(a *app) *cobra.Command {
	var install, uninstall bool
	var browsers []string
	var configPath, pinentryProg string
	var digestOrigins []string
	cmd := &cobra.Command{
		Use:   "native-host",
		Short: "Serve the Web eID browser extension over native messaging (or --install its manifests)",
		Long: `Run as a browser native-messaging host speaking the Web eID application's
protocol on standard input and output, so the Web eID extension and
web-eid.js can use the My Number Card. Browsers start it by themselves once
the manifests are installed:

  mynakit native-host --install                 # every browser, for this user
  mynakit native-host --install --browser firefox
  mynakit native-host --uninstall

The PIN is asked in a desktop dialog (a pinentry program) that names the
site, never through the browser. Settings for browser starts are read from
native-host.json in the user's config directory: {"reader": "...",
"pinentry": "/usr/bin/pinentry-gnome3", "digest_origins": ["https://..."]};
only the digest_origins may have bare digests signed with the signing key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if install || uninstall {
				return a.manageManifests(install, browsers)
			}
			cfg, err := loadHostConfig(configPath)
			if err != nil {
				return fail(err)
			}
			if pinentryProg != "" {
				cfg.Pinentry = pinentryProg
			}
			cfg.DigestOrigins = append(cfg.DigestOrigins, digestOrigins...)
			return fail(a.runNativeHost(cmd.Context(), cfg))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&install, "install", false, "install the host manifests for this user")
	f.BoolVar(&uninstall, "uninstall", false, "remove the host manifests mynakit installed")
	f.StringArrayVar(&browsers, "browser", nil, "chrome, chromium, edge or firefox (repeatable; default all)")
	f.StringVar(&configPath, "config", "", "settings file (default native-host.json in the user's config directory)")
	f.StringVar(&pinentryProg, "pinentry", "", "PIN dialog program (default from the settings, else pinentry)")
	f.StringArrayVar(&digestOrigins, "allow-digest-origin", nil, "an origin allowed to have digests signed (repeatable)")
	return cmd
}

func loadHostConfig(path string) (nativehost.Config, error) {
	if path == "" {
		p, err := nativehost.DefaultConfigPath()
		if err != nil {
			return nativehost.Config{}, nil
		}
		path = p
	}
	return nativehost.LoadConfig(path)
}

func (a *app) manageManifests(install bool, names []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return fail(err)
	}
	list := nativehost.Browsers
	if len(names) > 0 {
		list = nil
		for _, n := range names {
			list = append(list, nativehost.Browser(n))
		}
	}
	for _, b := range list {
		t := nativehost.Target{Browser: b, GOOS: runtime.GOOS, Home: home, Executable: exe}
		var path string
		if install {
			path, err = nativehost.Install(t)
		} else {
			path, err = nativehost.Uninstall(t)
		}
		if err != nil {
			return fail(fmt.Errorf("%s: %w", b, err))
		}
		verb := "installed"
		if !install {
			verb = "removed"
		}
		fmt.Fprintf(a.out, "%s: %s %s\n", b, verb, path)
	}
	return nil
}

// runNativeHost serves one browser connection on stdin and stdout.
func (a *app) runNativeHost(ctx context.Context, cfg nativehost.Config) error {
	if cfg.Reader != "" && a.reader == "" {
		a.reader = cfg.Reader
	}
	prompter := &pinentry.Prompter{Program: cfg.Pinentry, Describe: nativehost.Describe, Cancelled: nativehost.ErrUserCancelled}
	opts := nativehost.Options{
		Version:       version(),
		DigestOrigins: cfg.DigestOrigins,
		Open: func(ctx context.Context) (nativehost.Card, error) {
			o := a.openOptions()
			o.Prompter = prompter
			var c *mynakit.Card
			var err error
			if a.simulated() {
				sc, serr := a.simCard()
				if serr != nil {
					return nil, serr
				}
				c, err = mynakit.OpenTransport(sc, "mynakit in-process simulator", o)
			} else {
				c, err = mynakit.Open(ctx, o)
			}
			if err != nil {
				return nil, err
			}
			return nativehost.FromCard(c), nil
		},
	}
	return nativehost.Serve(ctx, a.in, a.out, opts)
}
