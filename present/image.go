package present

import "github.com/mynakit/mynakit/cardap"

// ImageFormat names an image's format from its magic bytes: "jpeg2000"
// (JP2 file), "jpeg2000-codestream", "png", "jpeg" or "unknown".
func ImageFormat(b []byte) string {
	switch {
	case cardap.IsJP2(b):
		return "jpeg2000"
	case len(b) >= 4 && b[0] == 0xFF && b[1] == 0x4F && b[2] == 0xFF && b[3] == 0x51:
		return "jpeg2000-codestream"
	case len(b) >= 8 && string(b[1:4]) == "PNG":
		return "png"
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8:
		return "jpeg"
	}
	return "unknown"
}
