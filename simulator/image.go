package simulator

import "github.com/mynakit/mynakit/cardimage"

// The card-image format lives in package cardimage, so that reading code
// (mynakit's dump) can write images without depending on the simulator.
// These aliases keep the simulator's own API in one place.
type (
	Image    = cardimage.Image
	Applet   = cardimage.Applet
	File     = cardimage.File
	Key      = cardimage.Key
	Secret   = cardimage.Secret
	HexBytes = cardimage.HexBytes
	Replay   = cardimage.Replay
)

// ImageFormat is the value of the "format" member of every card image.
const ImageFormat = cardimage.ImageFormat

// ParseFID reads a 4-hex-digit file identifier.
func ParseFID(s string) (uint16, error) { return cardimage.ParseFID(s) }

// FIDString prints a file identifier as 4 upper-case hex digits.
func FIDString(fid uint16) string { return cardimage.FIDString(fid) }

// ParseAccess reads an access condition ("none" or "pin:XXXX|pin:YYYY").
func ParseAccess(s string) ([]uint16, error) { return cardimage.ParseAccess(s) }

// AccessString writes an access condition.
func AccessString(keys []uint16) string { return cardimage.AccessString(keys) }

// ParseImage parses and validates a card image.
func ParseImage(b []byte) (*Image, error) { return cardimage.ParseImage(b) }

// LoadImage reads and validates a card image file.
func LoadImage(path string) (*Image, error) { return cardimage.LoadImage(path) }
