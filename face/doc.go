// Package face handles the pictures of the card face (券面事項確認AP EF 0002,
// docs/card.md §2.3 and §6.4): it decodes the JPEG 2000 photo in pure Go
// with a size cap checked before decoding, checks the PNG images of name,
// address, My Number and security code as stored, exports them only when
// the J-LIS signature that covers them has verified, writes a printable
// sheet for a counter's paper record, and compares a live picture with the
// card photo through an operator's own face engine (Matcher).
//
// Which signature covers which picture (docs/card.md §5.7):
//
//   - photo (DF27), name image (DF25), address image (DF26): the card-face
//     signature DF28 (check surface:face-signature);
//   - My Number image (EF 0005 DF41): that file's signature DF43 (check
//     surface:my-number-image-signature);
//   - security-code image (DF2A) and the expiry date (DF29): no signature at
//     all. They are whatever the chip holds.
//
// The JPEG 2000 decoder is github.com/ajroetker/go-jpeg2000 (pure Go). On
// the test images in testdata/jp2, made by OpenJPEG with ten parameter sets
// (5/3 and 9/7, tiles, code-block sizes and styles, precincts, all five
// progression orders, layers, a bare codestream, colour), it gives
// OpenJPEG's decode bit for bit for every reversible image, and within one
// grey level on under 0.1 % of the pixels of irreversible ones (both
// decoders compute 9/7 in floating point; ISO/IEC 15444-4 allows such
// differences). Decode wraps it with the header checks and recovery that
// make it safe on hostile input: a file must hold exactly one codestream,
// and the decoder is given only the header box and codestream whose
// headers were checked against the cap (samples, code-blocks, precincts,
// packets, tiles, levels, layers). DecodeVerified, which a read uses,
// decodes nothing unless the card-face signature covering the photo has
// passed.
package face
