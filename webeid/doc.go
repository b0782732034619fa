// Package webeid makes and validates Web eID authentication tokens
// ("web-eid:1.0") with the My Number Card's JPKI user-authentication key, so
// that web portals log people in with the card through the same token
// format, browser extension and server libraries that Web eID uses for other
// national eID cards.
//
// A token binds the card's signature to the page that asked for it: the
// authentication key signs hash(origin) ‖ hash(nonce), where origin is the
// ASCII serialization of the relying party's origin as the browser (or the
// bridge) verified it, and nonce is the single-use challenge the relying
// party's server issued, at least 256 bits of randomness. A hostile site that
// forwards another site's challenge gets a token bound to its own origin,
// which the other site rejects.
//
// The client side is [Authenticate]; the relying party's side is
// [Validator], which checks the certificate against J-LIS authentication
// anchors (never signing anchors), the signature over the expected origin
// and nonce, and that the nonce was issued, is unexpired and is used once.
// Revocation information for JPKI certificates is released only to
// registered verifiers, so revocation is an interface ([RevocationChecker]);
// without one the returned [Identity] says plainly that revocation was not
// checked.
//
// The format follows the public Web eID authentication token specification
// (web-eid-system-architecture-doc, "Web eID authentication token format");
// see docs/webeid.md.
package webeid
