// Package present holds the shapes in which mynakit's outputs show a
// certificate, a certificate check, a detached or PDF signature check and
// an image to a person or a program: the JSON the command-line tool prints
// and the bridge answers, and the names its text output uses. It formats only: every value it shows was judged
// by the package that made it (the verdict and checks come from package
// mynakit and jpki), and nothing here decides anything.
//
// Each JSON shape is one type, so the command-line tool, the bridge and
// the report all write a certificate the same way; golden files under
// testdata hold the bytes.
package present
