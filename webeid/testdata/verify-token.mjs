// An independent check of a Web eID 1.0 token, written from the published
// token format rather than from mynakit's Go code: the signature is
// RS256/PS256/ES256-style over hash(origin) || hash(nonce), with the
// certificate's public key. It checks form and signature only (no chain):
// the point is that the bytes mynakit produces mean what the format says.
//
// usage: node verify-token.mjs TOKEN.json ORIGIN NONCE   (exit 0: valid)
import { readFileSync } from "node:fs";
import { createHash, createVerify, X509Certificate, constants } from "node:crypto";

const [tokenFile, origin, nonce] = process.argv.slice(2);
const token = JSON.parse(readFileSync(tokenFile, "utf8"));

const fail = (why) => { console.error("invalid: " + why); process.exit(1); };

if (token.format !== "web-eid:1.0" && !String(token.format).startsWith("web-eid:1.")) fail("format " + token.format);
for (const k of ["unverifiedCertificate", "algorithm", "signature", "appVersion"]) {
  if (typeof token[k] !== "string" || token[k] === "") fail("missing " + k);
}
const bits = { "256": "sha256", "384": "sha384", "512": "sha512" }[token.algorithm.slice(2)];
if (!bits || !["RS", "PS", "ES"].includes(token.algorithm.slice(0, 2))) fail("algorithm " + token.algorithm);

const cert = new X509Certificate(Buffer.from(token.unverifiedCertificate, "base64"));
const signed = Buffer.concat([
  createHash(bits).update(origin, "utf8").digest(),
  createHash(bits).update(nonce, "utf8").digest(),
]);
const key = { key: cert.publicKey };
if (token.algorithm.startsWith("PS")) {
  key.padding = constants.RSA_PKCS1_PSS_PADDING;
  key.saltLength = constants.RSA_PSS_SALTLEN_DIGEST;
}
if (token.algorithm.startsWith("ES")) key.dsaEncoding = "ieee-p1363";
const ok = createVerify(bits).update(signed).verify(key, Buffer.from(token.signature, "base64"));
if (!ok) fail("signature");
console.log("valid");
