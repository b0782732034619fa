/*
 * mynakit Web eID client: web-eid.js's call shapes over the mynakit bridge.
 *
 *   const webeid = MynakitWebEid.create({bridge: 'http://127.0.0.1:8731'});
 *   const token = await webeid.authenticate(challengeNonce, {lang: 'ja'});
 *   const {certificate} = await webeid.getSigningCertificate({lang: 'ja'});
 *   const {signature, signatureAlgorithm} =
 *       await webeid.sign(certificate, hashBase64, 'SHA-256', {lang: 'ja'});
 *
 * Call them from a click: the holder answers on the bridge's consent page,
 * which opens in a pop-up; onConsent(url) is told each page, for a link in
 * case the browser blocked the pop-up.
 *
 * Errors are MynakitWebEid.WebEidError with a code a page can act on
 * (ERR_WEBEID_NATIVE_UNAVAILABLE, ERR_MYNAKIT_LNA_DENIED, ...) and a message
 * in Japanese or English. Serve this file from your own origin: when the
 * browser denies Local Network Access, a script on the loopback bridge
 * cannot load, and this client is what explains the denial.
 */
(function (global) {
  'use strict';

  const M = {
    ERR_WEBEID_NATIVE_UNAVAILABLE: [
      'マイナンバーカードのブリッジ（mynakit）に接続できません。このパソコンで mynakit が起動しているか確かめてください。',
      'Cannot reach the My Number Card bridge (mynakit). Check that mynakit is running on this PC.'],
    ERR_MYNAKIT_LNA_DENIED: [
      'ブラウザが、このサイトからこのパソコンの mynakit への接続（ローカル ネットワーク アクセス）を拒否しています。アドレスバー左のサイト情報アイコンを開き、「ローカル ネットワーク アクセス」（ループバック ネットワーク）を「許可」にしてから、ページを再読み込みしてください。職場のパソコンでは管理者が LocalNetworkAccessAllowedForUrls ポリシーで許可できます。',
      'The browser blocks this site from connecting to mynakit on this PC (Local Network Access). Open the site information icon left of the address, set "Local network access" (loopback network) to Allow, then reload the page. On a managed PC an administrator can allow it with the LocalNetworkAccessAllowedForUrls policy.'],
    ERR_MYNAKIT_LNA_PROMPT: [
      'ブラウザの「ローカル ネットワーク アクセス」の確認に「許可」と答えてください（確認が閉じられた場合は、アドレスバー左のサイト情報アイコンから許可できます）。その後もう一度お試しください。',
      'Answer Allow to the browser\'s "Local network access" question (if it was dismissed, allow it from the site information icon left of the address), then try again.'],
    ERR_WEBEID_USER_CANCELLED: [
      'キャンセルされました。', 'The request was cancelled.'],
    ERR_WEBEID_USER_TIMEOUT: [
      '確認画面で時間切れになりました。もう一度お試しください。', 'No answer in time on the confirmation page. Please try again.'],
    ERR_MYNAKIT_NO_READER: [
      'カードリーダーが見つかりません。接続を確かめてください。', 'No card reader was found. Check that it is connected.'],
    ERR_MYNAKIT_NO_CARD: [
      'カードリーダーにマイナンバーカードを置いてください。', 'Put your My Number Card on the card reader.'],
    ERR_MYNAKIT_PIN_BLOCKED: [
      '暗証番号がロックされているか、残りが1回です。お住まいの市区町村の窓口で手続きしてください。',
      'The PIN is blocked, or only one try is left. Please visit your municipality\'s office.'],
    ERR_MYNAKIT_ORIGIN_NOT_ALLOWED: [
      'このサイトはブリッジに許可されていません（mynakit serve --allow-origin）。', 'This site is not allowed by the bridge (mynakit serve --allow-origin).'],
    ERR_MYNAKIT_NOT_PAIRED: [
      'このサイトによるカードリーダーの利用が許可されませんでした。', 'Using the card reader from this site was not allowed.'],
    ERR_MYNAKIT_DIGEST_NOT_ALLOWED: [
      'このサイトはハッシュ値への署名を許可されていません。', 'This site is not allowed to have a hash signed.'],
    ERR_MYNAKIT_CERTIFICATE_MISMATCH: [
      'カードの署名用電子証明書が指定のものと違います。カードを確かめてください。', 'The card\'s signing certificate is not the one given. Check the card.'],
    ERR_WEBEID_NATIVE_INVALID_ARGUMENT: [
      '依頼の内容が正しくありません。', 'The request was not valid.'],
    ERR_WEBEID_NATIVE_FATAL: [
      'カードの操作に失敗しました。', 'The card operation failed.'],
  };

  class WebEidError extends Error {
    constructor(code, lang, detail) {
      const m = M[code] || M.ERR_WEBEID_NATIVE_FATAL;
      super(lang === 'en' ? m[1] : m[0]);
      this.name = 'WebEidError';
      this.code = code;
      this.messages = {ja: m[0], en: m[1]};
      this.detail = detail || '';
    }
  }

  function language(opts) {
    const l = (opts && opts.lang) || (global.document && global.document.documentElement.lang) || (global.navigator && global.navigator.language) || 'ja';
    return String(l).toLowerCase().startsWith('ja') ? 'ja' : 'en';
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // localNetworkAccess reports the page's Local Network Access permission
  // for loopback addresses: granted, prompt, denied or unsupported.
  // Chrome 145 and later name it loopback-network; 142-144 used
  // local-network-access.
  async function localNetworkAccess() {
    if (!global.navigator || !navigator.permissions || !navigator.permissions.query) return 'unsupported';
    for (const name of ['loopback-network', 'local-network-access']) {
      try {
        const p = await navigator.permissions.query({name});
        return p.state;
      } catch (e) { /* not this browser's name */ }
    }
    return 'unsupported';
  }

  function errorCode(api) {
    switch (api && api.code) {
      case 'denied': return 'ERR_WEBEID_USER_CANCELLED';
      case 'consent-timeout': return 'ERR_WEBEID_USER_TIMEOUT';
      case 'no-card': return 'ERR_MYNAKIT_NO_CARD';
      case 'blocked': case 'would-block': return 'ERR_MYNAKIT_PIN_BLOCKED';
      case 'forbidden-origin': case 'no-origin': return 'ERR_MYNAKIT_ORIGIN_NOT_ALLOWED';
      case 'digest-not-allowed': return 'ERR_MYNAKIT_DIGEST_NOT_ALLOWED';
      case 'bad-nonce': case 'bad-request': return 'ERR_WEBEID_NATIVE_INVALID_ARGUMENT';
      case 'cancelled': return 'ERR_WEBEID_USER_CANCELLED';
    }
    return 'ERR_WEBEID_NATIVE_FATAL';
  }

  function create(config) {
    config = config || {};
    const base = String(config.bridge || 'http://127.0.0.1:8731').replace(/\/+$/, '');
    const storeKey = 'mynakit-bridge-token:' + base;
    const poll = config.pollInterval || 300;
    const timeout = config.timeout || 5 * 60 * 1000;
    let token = null;
    try { token = global.localStorage.getItem(storeKey); } catch (e) { /* no storage */ }

    function remember(t) {
      token = t;
      try {
        if (t) global.localStorage.setItem(storeKey, t); else global.localStorage.removeItem(storeKey);
      } catch (e) { /* no storage */ }
    }

    // call sends one request to the bridge; a network failure is turned
    // into the reason: Local Network Access denied or pending, or no
    // bridge.
    async function call(method, path, body, lang) {
      const headers = {'Accept': 'application/json'};
      if (token) headers['Authorization'] = 'Bearer ' + token;
      const init = {method, headers, mode: 'cors', credentials: 'omit', cache: 'no-store'};
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let resp;
      try {
        resp = await fetch(base + path, init);
      } catch (e) {
        const state = await localNetworkAccess();
        if (state === 'denied') throw new WebEidError('ERR_MYNAKIT_LNA_DENIED', lang, String(e));
        if (state === 'prompt') throw new WebEidError('ERR_MYNAKIT_LNA_PROMPT', lang, String(e));
        throw new WebEidError('ERR_WEBEID_NATIVE_UNAVAILABLE', lang, String(e));
      }
      let v = null;
      try { v = await resp.json(); } catch (e) { v = null; }
      return {status: resp.status, body: v || {}};
    }

    // consentWindow shows the bridge's consent page in a pop-up.
    // onConsent(url), when given, is told each page too, to show a link:
    // the consent page isolates itself (Cross-Origin-Opener-Policy), so
    // each page needs a new pop-up, and a browser allows one per click; a
    // second page in a row (the site's pairing, then the login) may be
    // blocked and is then opened from the link. popup: false leaves it to
    // the page.
    function consentWindow(url, opts) {
      for (const f of [opts && opts.onConsent, config.onConsent]) {
        if (typeof f === 'function') { try { f(url); } catch (e) { /* the page's */ } }
      }
      if ((opts && opts.popup === false) || config.popup === false) return;
      try {
        global.open(url, '_blank', 'popup,width=560,height=720');
      } catch (e) { /* blocked: the link is there */ }
    }

    // follow polls an operation (a 202 answer) until it finishes, showing
    // its consent page once; it returns the finished operation's JSON.
    async function follow(op, lang, opts) {
      const deadline = Date.now() + timeout;
      let shown = false;
      for (;;) {
        if (op.state === 'consent' && op.consent_url && !shown) {
          shown = true;
          consentWindow(op.consent_url, opts);
        }
        if (op.state === 'done' || op.state === 'failed' || op.state === 'cancelled') return op;
        if (Date.now() > deadline) {
          await call('DELETE', '/v1/operations/' + op.id, undefined, lang).catch(() => {});
          throw new WebEidError('ERR_WEBEID_USER_TIMEOUT', lang);
        }
        await sleep(poll);
        const r = await call('GET', '/v1/operations/' + op.id, undefined, lang);
        if (r.status !== 200) throw new WebEidError(errorCode(r.body.error), lang, JSON.stringify(r.body));
        op = r.body;
      }
    }

    async function pair(lang, opts) {
      remember(null);
      const r = await call('POST', '/v1/pair', undefined, lang);
      if (r.status !== 202) throw new WebEidError(errorCode(r.body.error), lang, JSON.stringify(r.body));
      const op = await follow(r.body, lang, opts);
      if (op.state !== 'done' || !op.token) {
        throw new WebEidError(op.error && op.error.code === 'consent-timeout' ? 'ERR_WEBEID_USER_TIMEOUT' : 'ERR_MYNAKIT_NOT_PAIRED', lang, JSON.stringify(op.error || {}));
      }
      remember(op.token);
    }

    async function reader(lang) {
      if (config.reader) return config.reader;
      const r = await call('GET', '/v1/readers', undefined, lang);
      const list = (r.body && r.body.readers) || [];
      if (list.length === 0) throw new WebEidError('ERR_MYNAKIT_NO_READER', lang);
      const withCard = list.find((x) => x.card_present);
      if (!withCard) throw new WebEidError('ERR_MYNAKIT_NO_CARD', lang);
      return withCard.name;
    }

    // request runs one card operation: pairs first when the site has no
    // token (or the bridge forgot it), follows a 202 through the consent
    // page, and returns the result's JSON.
    async function request(method, route, body, opts) {
      const lang = language(opts);
      const name = await reader(lang);
      const path = '/v1/readers/' + encodeURIComponent(name) + route;
      for (let attempt = 0; ; attempt++) {
        if (!token) await pair(lang, opts);
        const r = await call(method, path, body, lang);
        if (r.status === 401 && attempt === 0) { remember(null); continue; }
        if (r.status === 200) return r.body;
        if (r.status !== 202) throw new WebEidError(errorCode(r.body.error), lang, JSON.stringify(r.body));
        const op = await follow(r.body, lang, opts);
        if (op.state === 'done' && op.result) return op.result;
        if (op.state === 'cancelled') throw new WebEidError('ERR_WEBEID_USER_CANCELLED', lang);
        throw new WebEidError(errorCode(op.error), lang, JSON.stringify(op.error || {}));
      }
    }

    const hashNames = {'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512'};
    const rsa = (h) => ({cryptoAlgorithm: 'RSA', hashFunction: h, paddingScheme: 'PKCS1.5'});
    const bytesOf = (b64) => { try { return atob(String(b64).replace(/\s+/g, '')); } catch (e) { return null; } };

    return {
      // authenticate returns a Web eID 1.0 token bound to this page's
      // origin, which the bridge verified.
      async authenticate(challengeNonce, opts) {
        if (typeof challengeNonce !== 'string' || challengeNonce === '') {
          throw new WebEidError('ERR_WEBEID_NATIVE_INVALID_ARGUMENT', language(opts), 'challengeNonce');
        }
        return request('POST', '/authenticate', {challengeNonce}, opts);
      },
      // getSigningCertificate returns the signing certificate (base64 DER)
      // and the algorithms the card signs with.
      async getSigningCertificate(opts) {
        const v = await request('GET', '/certificates/sign', undefined, opts);
        return {certificate: v.der, supportedSignatureAlgorithms: ['SHA-256', 'SHA-384', 'SHA-512'].map(rsa)};
      },
      // sign has the signing key sign a hash (base64) the page computed;
      // the bridge allows it only for origins it lets request digest
      // signatures, and tells the holder the content cannot be shown.
      async sign(certificate, hash, hashFunction, opts) {
        const lang = language(opts);
        const h = hashNames[String(hashFunction).toUpperCase()];
        if (!h || typeof hash !== 'string' || typeof certificate !== 'string') {
          throw new WebEidError('ERR_WEBEID_NATIVE_INVALID_ARGUMENT', lang, 'hashFunction ' + hashFunction);
        }
        const v = await request('POST', '/sign', {digest: hash, hash: h}, opts);
        if (bytesOf(v.certificate) === null || bytesOf(v.certificate) !== bytesOf(certificate)) {
          throw new WebEidError('ERR_MYNAKIT_CERTIFICATE_MISMATCH', lang);
        }
        return {signature: v.signature, signatureAlgorithm: rsa(String(hashFunction).toUpperCase())};
      },
      localNetworkAccess,
      forget() { remember(null); },
    };
  }

  global.MynakitWebEid = {create, WebEidError, localNetworkAccess, messages: M};
})(typeof window !== 'undefined' ? window : globalThis);
