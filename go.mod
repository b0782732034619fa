module github.com/mynakit/mynakit

go 1.26.8

require (
	github.com/digitorus/timestamp v0.0.0-20250524132541-c45532741eea
	github.com/ebfe/scard v0.0.0-20241214075232-7af069cabc25
	github.com/mattn/go-runewidth v0.0.31
	github.com/smallstep/pkcs7 v0.2.3
	github.com/spf13/cobra v1.10.2
	github.com/spf13/pflag v1.0.9
	golang.org/x/term v0.47.0
	golang.org/x/text v0.44.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/clipperhouse/uax29/v2 v2.2.0 // indirect
	github.com/digitorus/pkcs7 v0.0.0-20230713084857-e76b763bdc49 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
