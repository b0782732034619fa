// Package bridge is mynakit's local HTTP bridge: an http.Handler that lets
// web and desktop applications at municipal windows and clinics reach the
// Individual Number Card through a service on the same PC instead of
// linking a PC/SC library, and serves the counter page staff look at. It
// is built on package mynakit and adds no card logic of its own: every
// result is the library's (a read answers with exactly the JSON of
// mynakit.Report), every verdict is the library's verdict.
//
// # Safety on a shared PC
//
// A browser's Origin protects against web pages; from a local program it
// means nothing. So the bridge trusts secrets only the right principal
// holds, and the trust boundary is the OS user (see Launch and package
// rundir):
//
//   - A launch secret, fresh at each start, sits in the user's runtime
//     directory (mode 0700, the file 0600). The counter page opens only
//     through a one-time URL derived from it (Bridge.OpenURL, mynakit
//     open): http://127.0.0.1:PORT/#ticket=…. The ticket is in the
//     fragment, which the browser sends to no server and puts in no
//     Referer; the page's script exchanges it, once, for a session token
//     (POST /v1/session, from the bridge's own origin only), keeps that in
//     sessionStorage and sends it as a bearer token on every request,
//     including the event stream (read with fetch) and the consent and
//     pairing forms (sent with fetch). The session is never a cookie:
//     browsers scope cookies by host, not port, and count every port of
//     127.0.0.1 as the same site, so a program on another loopback port
//     that the clerk's browser visits would receive it; sessionStorage is
//     its origin's (scheme, host and port) alone. A consent page a site
//     opens in a pop-up borrows the session from an open page of the
//     bridge over a BroadcastChannel, which only the bridge's origin can
//     join. No token is ever in a page, and only that session answers the
//     consent and pairing forms, so only the person at the counter
//     approves.
//   - Local applications send a token derived from the secret
//     (Launch.AppToken), preferably over the Unix domain socket
//     (ListenUnix), whose peers' credentials are checked. Each is its own
//     principal, with its own operations and streams.
//   - It listens on loopback only (Listen refuses anything else) and
//     answers only requests whose Host is its own, which defeats DNS
//     rebinding, from loopback peers.
//   - It serves browsers of allowed origins only (CORS for those, on the
//     /v1 API only; 403 for any other Origin), and checks every
//     state-changing request against them. An origin first pairs (POST
//     /v1/pair): the person at the counter allows it on the consent page,
//     and the origin collects a token once. A page that merely guesses the
//     port gets the reader list and nothing else. Revoking a token ends
//     its streams.
//   - Whatever identifies the card or the person needs consent: a secret
//     typed on the consent page, or an explicit yes for the 共通AP, the
//     JPKI certificate and /certificates/auth. /card tells presence and
//     tries only; clinic face results go only to principals paired for the
//     clinic mode, and each is logged.
//   - No calling page ever sees a PIN: an operation that needs a secret
//     answers 202 with a consent_url on the bridge's own origin, where the
//     holder sees which origin asks for what (which facts, which key, the
//     digest to be signed) and types the PIN or the card-face data
//     (照合番号B). That form is accepted only with the counter's session
//     token; the secret goes to the card's PIN session, which asks for it
//     outside any card transaction and wipes it; it is never logged,
//     stored or returned.
//   - The PIN session's retry guard is always on (a wrong secret never
//     blocks a key through the bridge) and wrong secrets slow their origin
//     down.
//   - One card operation at a time per reader; others queue with a bounded
//     wait (429 when the queue is full, 503 after waiting too long, 409
//     waiting-for-consent when the reader waits for the holder). A pulled
//     card cancels its operations and forgets their results. The queue is
//     checked before a body is read, and a document to sign is hashed as
//     it streams to a private spool file.
//   - Every card operation is recorded in the access log (package
//     accesslog) before its card is touched and again when it ends, before
//     anything is handed out.
//
// The routes, their answers and status codes are in openapi.json (served
// at /v1/openapi.json), which a test keeps in step with the routes served.
package bridge
