package trust

// CheckName names one verification step. Names are stable: they appear in
// the JSON report, in exit-status explanations and in the README, and a test
// keeps the README's list equal to KnownChecks.
type CheckName string

// The checks a read, a signature verification or a QR code verification can
// report. The prefix says what the check is about: the text applet
// (券面事項入力補助AP), the card face (券面事項確認AP), the card as a whole, the
// JPKI certificates, CMS signatures, presence proofs (a key on the chip
// signed the host's fresh randomness), and consistency between copies of one
// fact that the card holds more than once.
const (
	// 券面事項入力補助AP (docs/card.md §2.2, §5.6, §5.8).
	CheckTextCV             CheckName = "text:cv-certificate"        // EF 0004 under the J-LIS text CA key
	CheckTextMyNumberDigest CheckName = "text:my-number-digest"      // SHA-256 of EF 0001 = DF31
	CheckTextAttrDigest     CheckName = "text:attributes-digest"     // SHA-256 of DF22..DF25 = DF32
	CheckTextIntegrity      CheckName = "text:integrity-signature"   // DF33 over DF31 ‖ DF32
	CheckTextSignedKey      CheckName = "text:signed-key"            // EF 0007 DF52 over DF51
	CheckTextCheckDigit     CheckName = "text:my-number-check-digit" // the 12th digit (§8)
	CheckTextFormat         CheckName = "text:format"                // the files parse as docs/card.md says

	// 券面事項確認AP (docs/card.md §2.3, §5.7).
	CheckSurfaceCV            CheckName = "surface:cv-certificate"
	CheckSurfaceFace          CheckName = "surface:face-signature"            // DF28 over H1 ‖ H2 ‖ H3
	CheckSurfaceAge           CheckName = "surface:age-signature"             // EF 0001 DF13
	CheckSurfaceMyNumberImage CheckName = "surface:my-number-image-signature" // EF 0005 DF43
	CheckSurfaceFormat        CheckName = "surface:format"

	// Presence proofs and the ties between applets (docs/card.md §5.9).
	CheckPresenceSurface CheckName = "presence:surface" // the card-face key signed SHA-256(R ‖ N)
	CheckPresenceText    CheckName = "presence:text"    // the text applet's EF 0007 key signed SHA-256(R ‖ N)
	CheckPresenceJPKI    CheckName = "presence:jpki"    // the JPKI user-authentication key signed a host nonce
	CheckBindingCodeA    CheckName = "binding:text-code-a"
	// The signing certificate is tied to the chip: its own key signed a
	// host nonce (jpki.ProveSignKey), or its holder facts match text
	// facts the same read tied to the chip.
	CheckBindingSignCert CheckName = "binding:sign-certificate"

	// The card as a whole.
	CheckCardApplets  CheckName = "card:applets"  // a token that says "card" has every applet
	CheckCardPresence CheckName = "card:presence" // something read is tied to the chip by a presence proof
	CheckCardToken    CheckName = "card:token"    // the JPKI token label is one docs/card.md lists
	CheckChainRoot    CheckName = "card:cv-chain-root"
	CheckChainID      CheckName = "card:cv-chain-id"
	CheckChainLower   CheckName = "card:cv-chain-lower"
	CheckCommonFormat CheckName = "common:format"

	// Copies of one fact (all but the birth date and sex are unsigned).
	CheckBirthDate    CheckName = "consistency:birth-date"
	CheckSex          CheckName = "consistency:sex"
	CheckExpiry       CheckName = "consistency:expiry"
	CheckMunicipality CheckName = "consistency:municipality"

	// JPKI X.509 (docs/card.md §5.2, §5.3).
	CheckAuthCert   CheckName = "x509:auth-certificate"
	CheckAuthCACert CheckName = "x509:auth-ca-certificate"
	CheckSignCert   CheckName = "x509:sign-certificate"
	CheckSignCACert CheckName = "x509:sign-ca-certificate"
	CheckJPKIFormat CheckName = "jpki:format"

	// Detached CMS signatures.
	CheckCMSSignature CheckName = "cms:signature"
	CheckCMSTimestamp CheckName = "cms:timestamp"

	// Offline QR codes (package qr).
	CheckQRFormat CheckName = "qr:format"
)

// KnownChecks lists every check name in a stable order.
func KnownChecks() []CheckName {
	return []CheckName{
		CheckTextCV, CheckTextMyNumberDigest, CheckTextAttrDigest, CheckTextIntegrity, CheckTextSignedKey, CheckTextCheckDigit, CheckTextFormat,
		CheckSurfaceCV, CheckSurfaceFace, CheckSurfaceAge, CheckSurfaceMyNumberImage, CheckSurfaceFormat,
		CheckPresenceSurface, CheckPresenceText, CheckPresenceJPKI, CheckBindingCodeA, CheckBindingSignCert,
		CheckCardApplets, CheckCardPresence, CheckCardToken, CheckChainRoot, CheckChainID, CheckChainLower, CheckCommonFormat,
		CheckBirthDate, CheckSex, CheckExpiry, CheckMunicipality,
		CheckAuthCert, CheckAuthCACert, CheckSignCert, CheckSignCACert, CheckJPKIFormat,
		CheckCMSSignature, CheckCMSTimestamp,
		CheckQRFormat,
	}
}
