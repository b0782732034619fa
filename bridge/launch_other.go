//go:build !unix

package bridge

import "os"

const oNoFollow = 0

// privateFile: on Windows the runtime directory is under the user's local
// application data, which only the user may read; its ACL is not checked
// yet.
func privateFile(os.FileInfo) error { return nil }
