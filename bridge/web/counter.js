// mynakit counter page. Plain JavaScript, no build step, nothing loaded
// from the network: it talks only to the bridge that served it. Card data
// is only ever put into the page with textContent, never as HTML.
//
// The page itself carries no token. The one-time URL of mynakit open has
// its ticket in the fragment (#ticket=…), which no request carries; the
// script exchanges it, once, for the counter's session token (POST
// /v1/session), keeps that in sessionStorage (this origin — scheme, host
// and port — and this tab only) and sends it as a bearer token. No cookie:
// a browser sends a host's cookies to every port of it, so a program on
// another loopback port would get the session.
'use strict';

(function () {
  const clinicMode = document.body.dataset.clinic === 'on';
  const $ = (id) => document.getElementById(id);

  // Japanese first, English beside it, for every check the library makes.
  const checkWords = {
    'text:format': ['券面事項入力補助APのデータ形式', 'format of the text applet\'s data'],
    'text:cv-certificate': ['券面事項入力補助APの証明書（J-LIS）', 'the text applet\'s certificate from J-LIS'],
    'text:my-number-digest': ['個人番号のハッシュ値', 'digest of the My Number'],
    'text:attributes-digest': ['基本4情報（氏名・住所・生年月日・性別）のハッシュ値', 'digest of the name, address, birth date and sex'],
    'text:integrity-signature': ['券面事項入力補助APの署名（J-LIS）', 'J-LIS signature over the text data'],
    'text:signed-key': ['券面事項入力補助APのカード鍵', 'the text applet\'s card key'],
    'text:my-number-check-digit': ['個人番号の検査用数字', 'check digit of the My Number'],
    'surface:format': ['券面事項確認APのデータ形式', 'format of the card-face data'],
    'surface:cv-certificate': ['券面事項確認APの証明書（J-LIS）', 'the card face\'s certificate from J-LIS'],
    'surface:face-signature': ['券面画像（顔写真・氏名・住所）の署名', 'signature over the card-face images (photo, name, address)'],
    'surface:age-signature': ['年齢確認記録の署名', 'signature over the age-verification record'],
    'surface:my-number-image-signature': ['個人番号画像の署名', 'signature over the My Number image'],
    'presence:surface': ['券面事項確認APのカード存在証明', 'proof that the card-face chip is in the reader'],
    'presence:text': ['券面事項入力補助APのカード存在証明', 'proof that the text applet\'s chip is in the reader'],
    'presence:jpki': ['利用者証明用の鍵の存在証明', 'proof that the chip holds the authentication key'],
    'binding:text-code-a': ['券面事項確認APが個人番号（照合番号A）を受け付けた（状態語のみ・証明ではない）', 'the card face accepted the My Number as 照合番号A (a status word, not a proof)'],
    'binding:sign-certificate': ['署名用電子証明書とカードの結び付き', 'the signing certificate tied to the chip'],
    'card:applets': ['カードのAPがすべてそろっていること', 'the card has every applet'],
    'card:presence': ['読み取った情報とカードの結び付き', 'what was read is tied to the chip'],
    'card:token': ['カードの種別（トークン情報）', 'the kind of token (card or smartphone)'],
    'card:cv-chain-root': ['カードの証明書チェーン（ルート）', 'the card\'s certificate chain (root)'],
    'card:cv-chain-id': ['カードの証明書チェーン（識別子）', 'the card\'s certificate chain (identifier)'],
    'card:cv-chain-lower': ['カードの証明書チェーン（下位）', 'the card\'s certificate chain (lower level)'],
    'common:format': ['共通APのデータ形式', 'format of the card information'],
    'consistency:birth-date': ['生年月日の一致', 'the copies of the birth date agree'],
    'consistency:sex': ['性別の一致', 'the copies of the sex agree'],
    'consistency:expiry': ['有効期限の一致', 'the copies of the card expiry agree'],
    'consistency:municipality': ['市区町村コードの一致', 'the copies of the municipality code agree'],
    'x509:auth-certificate': ['利用者証明用電子証明書', 'the user-authentication certificate'],
    'x509:auth-ca-certificate': ['利用者証明用CA証明書', 'the authentication CA certificate'],
    'x509:sign-certificate': ['署名用電子証明書', 'the signing certificate'],
    'x509:sign-ca-certificate': ['署名用CA証明書', 'the signing CA certificate'],
    'jpki:format': ['公的個人認証APのデータ形式', 'format of the JPKI data'],
    'cms:signature': ['署名データ', 'the CMS signature'],
    'cms:timestamp': ['タイムスタンプ', 'the timestamp'],
    'qr:format': ['QRコードの形式', 'format of the QR code'],
  };
  const resultWords = { fail: ['失敗', 'failed'], unknown: ['確認できず', 'could not be checked'] };
  const verdictWords = {
    'genuine': ['✔ 真正', 'genuine'],
    'genuine-expired': ['! 真正・期限切れ', 'genuine, expired'],
    'not-genuine': ['✖ 真正でない', 'not genuine'],
    'unknown': ['? 不明', 'unknown'],
  };
  const sexWords = { male: ['男', 'male'], female: ['女', 'female'], 'not-applicable': ['適用不能', 'not applicable'], unknown: ['不明', 'unknown'] };

  // dateLabel writes an ISO date (or YYYYMMDD) as the CLI does: ISO, then
  // 和暦 — "1980-02-17 (昭和55年2月17日)". Era starts: docs/card.md §3.6.
  const eras = [['令和', 2019, 5, 1], ['平成', 1989, 1, 8], ['昭和', 1926, 12, 25], ['大正', 1912, 7, 30], ['明治', 1868, 1, 25]];
  function dateLabel(s) {
    const m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(String(s || ''));
    if (!m) return String(s || '');
    const y = +m[1], mo = +m[2], d = +m[3];
    const iso = m[1] + '-' + m[2] + '-' + m[3];
    const key = y * 10000 + mo * 100 + d;
    for (const [name, ey, em, ed] of eras) {
      if (key >= ey * 10000 + em * 100 + ed) return iso + ' (' + name + (y - ey + 1) + '年' + mo + '月' + d + '日)';
    }
    return iso;
  }

  // ja/en writes "日本語 English" into el, the English marked as such.
  function jaEn(el, ja, en) {
    el.textContent = '';
    el.append(document.createTextNode(ja + ' '));
    const s = document.createElement('span');
    s.lang = 'en';
    s.textContent = en;
    el.append(s);
  }

  // --- the counter's session ---
  const KEY = 'mynakit-session';
  let token = null;
  try { token = sessionStorage.getItem(KEY); } catch (e) { /* no storage: no session */ }

  // A consent page in a pop-up a site opened has no session of its own:
  // it asks the bridge's open pages (this origin only) for it.
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('mynakit-session') : null;
  if (channel) {
    channel.addEventListener('message', (ev) => {
      if (ev.data === 'want-session' && token) channel.postMessage({ session: token });
    });
  }

  // openSession spends the one-time URL's ticket, if the address has one.
  async function openSession() {
    const m = /^#ticket=([A-Za-z0-9._-]{1,256})$/.exec(location.hash);
    if (!m) return;
    // The ticket leaves the address bar and the history at once.
    history.replaceState(null, '', location.pathname);
    try {
      const res = await fetch('/v1/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ ticket: m[1] }),
        cache: 'no-store', credentials: 'omit',
      });
      if (!res.ok) return;
      const j = await res.json();
      if (typeof j.session !== 'string') return;
      token = j.session;
      try { sessionStorage.setItem(KEY, token); } catch (e) { /* this page only */ }
    } catch (e) { /* no session */ }
  }

  // closed says how to open the counter page, instead of it.
  function closed() {
    token = null;
    try { sessionStorage.removeItem(KEY); } catch (e) { /* gone anyway */ }
    show($('closed'), true);
    show($('main'), false);
    show($('mode'), false);
    jaEn($('connection'), '未接続', 'not connected');
  }

  const unauthorized = new Error('unauthorized');

  function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch(path, Object.assign({}, opts, { headers: headers, cache: 'no-store', credentials: 'omit' }));
  }

  // --- Server-Sent Events over fetch (one reader of the stream for both) ---
  async function stream(path, onEvent, onOpen) {
    const res = await api(path, { headers: { Accept: 'text/event-stream' } });
    if (res.status === 401) throw unauthorized;
    if (!res.ok) throw new Error(path + ': ' + res.status);
    if (onOpen) onOpen();
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      buf += dec.decode(r.value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let name = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data) {
          let v;
          try { v = JSON.parse(data); } catch (e) { continue; }
          onEvent(name, v);
        }
      }
    }
  }

  function follow(path, onEvent, onOpen, onLost) {
    const go = async () => {
      for (;;) {
        try {
          await stream(path, onEvent, onOpen);
        } catch (e) {
          if (e === unauthorized) {
            // The session ended (the bridge restarted): open it anew.
            if (started) closed();
            started = false;
            return;
          }
        }
        if (onLost) onLost();
        await new Promise((ok) => setTimeout(ok, 1000));
      }
    };
    go();
  }

  // --- state ---
  let cur = null; // { reader, op, photoURL, faceURLs, finished }

  function show(el, on) { el.hidden = !on; }

  function clearScreen() {
    if (cur && cur.photoURL) URL.revokeObjectURL(cur.photoURL);
    if (cur && cur.faceURLs) for (const u of Object.values(cur.faceURLs)) URL.revokeObjectURL(u);
    if (cur && cur.op && !cur.finished) api('/v1/operations/' + encodeURIComponent(cur.op), { method: 'DELETE' }).catch(() => {});
    cur = null;
    hideConsent();
    for (const id of ['f-name', 'f-address', 'f-birth', 'f-sex', 'f-mynumber', 'f-card-expiry', 'f-cert-expiry', 'progress', 'reader-name']) $(id).textContent = '';
    const badge = $('badge');
    badge.className = 'badge pending';
    jaEn(badge, '確認中', 'checking…');
    $('failed').textContent = '';
    show($('failed-box'), false);
    show($('test-anchors'), false);
    $('error').textContent = '';
    show($('error'), false);
    const img = $('photo');
    img.removeAttribute('src');
    img.removeAttribute('width');
    show(img, false);
    for (const id of ['face-name', 'face-address']) {
      const f = $(id);
      f.removeAttribute('src');
      f.removeAttribute('width');
      show(f, false);
    }
    $('reveal-purpose').value = '';
    show($('reveal-form'), false);
    jaEn($('photo-caption'), '顔写真: 読み取り中', 'photo: reading…');
    show($('again'), false);
    show($('card'), false);
    show($('waiting'), true);
    clearClinic();
  }

  function secretMode() {
    const r = document.querySelector('input[name="secret"]:checked');
    return r ? r.value : 'pin';
  }

  async function startRead(reader) {
    if (cur) return;
    cur = { reader: reader, op: null, photoURL: null, faceURLs: {}, finished: false };
    show($('waiting'), false);
    show($('card'), true);
    $('reader-name').textContent = '(' + reader + ')';
    jaEn($('progress'), '読み取りを始めます', 'starting to read…');
    request(cur);
  }

  // request asks the bridge for the read of mine.reader (again, after a
  // wrong secret: the dialog stays open meanwhile).
  async function request(mine) {
    const reader = mine.reader;
    let res, body;
    try {
      res = await api('/v1/readers/' + encodeURIComponent(reader) + '/read', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ photo: true, code_b: secretMode() === 'code-b' }),
      });
      body = await res.json();
    } catch (e) {
      if (cur === mine) showError({ message: '読み取りを始められません could not start the read' });
      return;
    }
    if (cur !== mine) {
      // The screen moved on meanwhile: let the reader go.
      if (res.status === 202 && body.id) api('/v1/operations/' + encodeURIComponent(body.id), { method: 'DELETE' });
      return;
    }
    if (res.status === 200) {
      renderReport(body);
      renderVerdict(body.verification);
      finishRead();
    } else if (res.status === 202) {
      cur.op = body.id;
      onOperation(body);
    } else if (!(body.error && retryable(body.error))) {
      showError(body.error || { message: String(res.status) });
    }
  }

  function onOperation(op) {
    if (!cur || op.id !== cur.op) return;
    if (op.state === 'consent' && op.consent_url) {
      cur.retrying = false;
      if (op.secret && op.secret.retry) {
        wrongSecret(op.secret.remaining);
        if (cur.asked !== op.secret) reloadConsent();
      }
      cur.asked = op.secret || null;
      showConsent(op.consent_url);
      jaEn($('photo-caption'), '顔写真: 暗証番号の入力待ち', 'photo: waiting for the holder');
      $('consent-progress').textContent = '';
    } else if (!cur.retrying && op.state !== 'running') {
      // While the card is read after the answer, the dialog stays: a
      // wrong secret asks again in it. The first facts close it.
      hideConsent();
    }
    if (op.state === 'done') {
      fetchResult(op.id);
    } else if (op.state === 'failed' || op.state === 'cancelled') {
      if (op.error && op.error.code === 'card-removed') return; // the removal clears the screen
      if (op.state === 'failed' && op.error && retryable(op.error)) return;
      showError(op.error || { message: op.state });
    }
  }

  async function fetchResult(id) {
    if (!cur || cur.finished) return;
    const mine = cur;
    const res = await api('/v1/operations/' + encodeURIComponent(id));
    if (cur !== mine || !res.ok) return;
    const op = await res.json();
    if (cur !== mine) return;
    if (op.result) {
      // The verdict is shown only over the whole read.
      renderReport(op.result);
      renderVerdict(op.result.verification);
    }
    if (!cur.photoURL && op.links && op.links.photo) loadPhoto(op.links.photo, true);
    if (op.links && op.links.face_name) loadFace('name', op.links.face_name);
    if (op.links && op.links.face_address) loadFace('address', op.links.face_address);
    finishRead();
  }

  // wrongSecret warns in the dialog: the tries left, and before the last
  // try the bridge allows (it never spends the very last one).
  function wrongSecret(left) {
    const w = $('consent-warning');
    if (typeof left !== 'number' || left < 0) {
      jaEn(w, '入力が違います。もう一度入力してください。', 'Wrong value: please type it again.');
      w.className = 'problem';
    } else if (left <= 2) {
      jaEn(w, '⚠ 暗証番号が違います。残り' + left + '回。次に間違えると、このブリッジでは照合しません（市区町村の窓口へ）。',
        'Wrong PIN: ' + left + ' tries left. One more wrong try and the bridge will not try the card again (go to the municipality).');
      w.className = 'problem last-try';
    } else {
      jaEn(w, '暗証番号が違います。残り' + left + '回。もう一度入力してください。', 'Wrong PIN: ' + left + ' tries left. Please type it again.');
      w.className = 'problem';
    }
    w.dataset.left = String(left);
    show(w, true);
  }

  function reloadConsent() {
    const frame = $('consent-frame');
    if (frame.dataset.path) {
      frame.addEventListener('load', () => frame.focus(), { once: true });
      frame.src = frame.dataset.path;
    }
  }

  // retryable keeps the consent dialog open after a wrong secret (the
  // holder types it again, with the tries left and a warning before the
  // last try the bridge allows) or while the origin must wait.
  function retryable(err) {
    const mine = cur;
    let wait = 0;
    if (err.code === 'wrong-secret' && typeof err.remaining === 'number' && err.remaining > 1) {
      wrongSecret(err.remaining);
      mine.afterWrong = true;
    } else if (err.code === 'rate-limited' && mine.afterWrong) {
      // The bridge slows wrong secrets down: ask again once it lets us.
      wait = Math.min(60, Math.max(1, err.retry_after || 1));
      jaEn($('consent-progress'), '少しお待ちください（' + wait + '秒）', 'please wait (' + wait + ' s)');
    } else {
      return false;
    }
    mine.op = null;
    mine.retrying = true;
    setTimeout(() => { if (cur === mine) request(mine); }, wait * 1000);
    return true;
  }

  function finishRead() {
    if (!cur) return;
    cur.finished = true;
    $('progress').textContent = '';
    show($('again'), true);
  }

  function showError(err) {
    hideConsent();
    const el = $('error');
    el.textContent = (err && err.message) || 'エラー error';
    show(el, true);
    $('progress').textContent = '';
    show($('again'), true);
    const badge = $('badge');
    badge.className = 'badge unknown';
    jaEn(badge, '読み取りできませんでした', 'not read');
    if (!cur || !cur.photoURL) jaEn($('photo-caption'), '顔写真: 読み取れませんでした', 'photo: not read');
  }

  // --- the consent page, in a dialog ---
  function showConsent(url) {
    const dlg = $('consent-dialog');
    const frame = $('consent-frame');
    const path = new URL(url, location.href).pathname;
    if (frame.dataset.path !== path) {
      frame.dataset.path = path;
      frame.src = path;
    }
    if (!dlg.open) dlg.showModal();
    frame.addEventListener('load', () => frame.focus(), { once: true });
  }

  function hideConsent() {
    show($('consent-warning'), false);
    $('consent-progress').textContent = '';
    const dlg = $('consent-dialog');
    const frame = $('consent-frame');
    if (dlg.open) dlg.close();
    if (frame.dataset.path) {
      delete frame.dataset.path;
      frame.src = 'about:blank';
    }
  }

  async function cancelOp() {
    if (!cur || !cur.op) return;
    hideConsent();
    await api('/v1/operations/' + encodeURIComponent(cur.op), { method: 'DELETE' });
  }

  // --- facts ---
  function renderReport(r) {
    if (!cur || !r) return;
    if (r.text) {
      $('f-name').textContent = r.text.name || '';
      $('f-address').textContent = r.text.address || '';
      $('f-birth').textContent = dateLabel(r.text.birth_date);
      const sx = sexWords[r.text.sex];
      if (sx) jaEn($('f-sex'), sx[0], sx[1]);
      if (r.text.my_number) {
        cur.myNumber = r.text.my_number;
        if (!cur.revealed) {
          $('f-mynumber').textContent = maskMyNumber(r.text.my_number);
          show($('reveal-form'), true);
        }
      } else {
        // 照合番号B opens the basic facts but not the My Number file
        // (docs/card.md §3.5): say so instead of leaving the row blank.
        jaEn($('f-mynumber'), '読み取っていません（照合番号Bでは個人番号は開けません。暗証番号で読めます）', 'not read: 照合番号B does not open the My Number file; the PIN does');
      }
    }
    if (r.surface) {
      if (!$('f-birth').textContent) $('f-birth').textContent = dateLabel(r.surface.birth_date);
      const sx = sexWords[r.surface.sex];
      if (sx && !$('f-sex').textContent) jaEn($('f-sex'), sx[0], sx[1]);
    }
    const exp = r.expiry || {};
    if (exp.card) {
      const dd = $('f-card-expiry');
      dd.textContent = dateLabel(exp.card) + (exp.card_expired ? ' (期限切れ expired)' : '') + ' ';
      if (!exp.card_signed) {
        const u = document.createElement('span');
        u.className = 'unsigned';
        u.textContent = '署名なし unsigned';
        dd.append(u);
      }
    }
    if (exp.auth_certificate) {
      $('f-cert-expiry').textContent = dateLabel(exp.auth_certificate.slice(0, 10)) + (exp.certificate_expired ? ' (期限切れ expired)' : '') + (exp.revoked ? ' (失効 revoked)' : '');
    }
  }

  // The My Number is shown masked ("**** **** 7188"), on the screen and
  // on the print sheet, until the clerk states why it is needed: the
  // bridge logs that (never the number) before it is shown in full.
  function maskMyNumber(n) { return '**** **** ' + String(n).slice(-4); }
  function groupMyNumber(n) { return String(n).replace(/^(\d{4})(\d{4})(\d{4})$/, '$1 $2 $3'); }

  async function reveal(ev) {
    ev.preventDefault();
    if (!cur || !cur.myNumber) return;
    const mine = cur;
    const purpose = $('reveal-purpose').value.trim();
    if (!purpose) { $('reveal-purpose').focus(); return; }
    let res, body;
    try {
      res = await api('/v1/reveal', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ reader: mine.reader, purpose: purpose }),
      });
      body = await res.json();
    } catch (e) { res = null; }
    if (cur !== mine) return;
    if (!res || !res.ok) {
      const el = $('error');
      el.textContent = (body && body.error && body.error.message) || '記録できないため表示しません not shown: it could not be logged';
      show(el, true);
      return;
    }
    mine.revealed = true;
    $('f-mynumber').textContent = groupMyNumber(mine.myNumber);
    $('reveal-purpose').value = '';
    show($('reveal-form'), false);
  }

  function renderVerdict(v) {
    if (!v) return;
    const badge = $('badge');
    const w = verdictWords[v.verdict] || verdictWords.unknown;
    badge.className = 'badge ' + (verdictWords[v.verdict] ? v.verdict : 'unknown');
    jaEn(badge, w[0], w[1]);
    badge.dataset.verdict = v.verdict;
    const list = $('failed');
    list.textContent = '';
    let n = 0;
    for (const c of v.checks || []) {
      if (c.result === 'pass') continue;
      n++;
      const li = document.createElement('li');
      const words = checkWords[c.name] || [c.name, c.name];
      const res = resultWords[c.result] || [c.result, c.result];
      li.dataset.check = c.name;
      li.append(document.createTextNode(words[0] + ' — ' + res[0] + ' '));
      const en = document.createElement('span');
      en.lang = 'en';
      en.textContent = words[1] + ': ' + res[1] + (c.detail ? ' (' + c.detail + ')' : '');
      li.append(en);
      list.append(li);
    }
    show($('failed-box'), n > 0);
    show($('test-anchors'), !!v.test_anchors);
  }

  async function loadPhoto(url, final) {
    if (!cur || cur.photoURL) return;
    const mine = cur;
    const res = await api(url, { headers: { Accept: 'image/png' } });
    if (cur !== mine) return;
    if (!res.ok) {
      if (final) jaEn($('photo-caption'), '顔写真: 署名を確認できないため表示しません', 'photo: not shown, its signature did not verify');
      return;
    }
    const blob = await res.blob();
    if (cur !== mine) return;
    cur.photoURL = URL.createObjectURL(blob);
    const img = $('photo');
    // Three times the stored pixels, smoothly scaled, so that a clerk
    // can compare it with a face.
    img.addEventListener('load', () => { if (img.naturalWidth) img.width = img.naturalWidth * 3; }, { once: true });
    img.src = cur.photoURL;
    show(img, true);
    jaEn($('photo-caption'), '顔写真（J-LIS署名を確認済み）', 'photo (J-LIS signature verified)');
  }

  // loadFace shows the card face's name or address image, the PNG the
  // card signed, under its text; the bridge serves it only when the
  // card-face signature verified.
  async function loadFace(part, url) {
    if (!cur || cur.faceURLs[part]) return;
    const mine = cur;
    const res = await api(url, { headers: { Accept: 'image/png' } });
    if (cur !== mine || !res.ok || cur.faceURLs[part]) return;
    const blob = await res.blob();
    if (cur !== mine || cur.faceURLs[part]) return;
    const u = URL.createObjectURL(blob);
    cur.faceURLs[part] = u;
    const img = $('face-' + part);
    // Twice the stored pixels, smoothly scaled (the CSS keeps it within
    // the column), so that a clerk can read it beside the text.
    img.addEventListener('load', () => { if (img.naturalWidth) img.width = img.naturalWidth * 2; }, { once: true });
    img.src = u;
    show(img, true);
  }

  // --- events ---
  function onEvent(name, d) {
    refreshSeq++; // an answer to an earlier list request is older than this
    switch (name) {
      case 'card-inserted':
        if (!cur) startRead(d.reader);
        refreshReaders();
        break;
      case 'card-removed':
      case 'reader-removed':
        if (cur && cur.reader === d.reader) clearScreen();
        refreshReaders();
        break;
      case 'reader-added':
        refreshReaders();
        break;
      case 'operation':
        onOperation(d);
        break;
      case 'progress':
        if (cur && d.operation === cur.op) jaEn($('progress'), '読み取り中', d.step);
        break;
      case 'facts':
        if (cur && d.operation === cur.op) {
          if (!cur.retrying) hideConsent();
          renderReport(d.report);
          if (d.photo_url) loadPhoto(d.photo_url, false);
          if (d.part === 'surface') {
            const base = '/v1/operations/' + encodeURIComponent(cur.op) + '/face/';
            loadFace('name', base + 'name');
            loadFace('address', base + 'address');
          }
        }
        break;
      case 'consent':
        onConsent(d);
        break;
    }
  }

  // --- questions other callers wait on: the counter may cancel them ---
  const pending = new Map();
  // pendingSeq orders the list's answers against the events: a list
  // fetched before an event says nothing about after it.
  let pendingSeq = 0;

  function onConsent(c) {
    pendingSeq++;
    if (c.open) pending.set(c.id, c); else pending.delete(c.id);
    renderPending();
  }

  function renderPending() {
    const list = $('pending-list');
    list.textContent = '';
    for (const c of pending.values()) {
      const li = document.createElement('li');
      li.dataset.id = c.id;
      const who = c.origin.startsWith('app:') ? 'アプリ app «' + c.origin.slice(4) + '»' : c.origin;
      li.append(document.createTextNode(who + ' — ' + (c.what || c.action) + (c.reader ? ' (' + c.reader + ')' : '') + ' '));
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'cancel-consent';
      jaEn(b, '取り消す', 'Cancel');
      b.addEventListener('click', () => {
        api('/v1/operations/' + encodeURIComponent(c.id), { method: 'DELETE' }).finally(() => { pending.delete(c.id); renderPending(); });
      });
      li.append(b);
      list.append(li);
    }
    show($('pending'), pending.size > 0);
  }

  async function refreshPending() {
    const seq = ++pendingSeq;
    try {
      const res = await api('/v1/consents');
      if (!res.ok) return;
      const j = await res.json();
      if (seq !== pendingSeq) return;
      pending.clear();
      for (const c of j.consents || []) if (c.origin !== location.origin) pending.set(c.id, c);
      renderPending();
    } catch (e) { /* the stream reconnects */ }
  }

  // refreshSeq orders the reader-list answers: one that a later event or
  // request overtook says nothing about now.
  let refreshSeq = 0;

  // renderService shows the reader service's state (pcscd not running, no
  // reader, reader unplugged) and what to do, in the reader status area,
  // and asks again every 2 s until it is ok: a service that comes back
  // with no reader sends no event.
  let serviceTimer = null;
  function renderService(s) {
    let el = $('reader-service');
    if (!el) {
      el = document.createElement('span');
      el.id = 'reader-service';
      el.setAttribute('role', 'status');
      $('readers').append(' ', el);
    }
    const bad = !!s && s.state !== 'ok';
    el.hidden = !bad;
    el.dataset.state = s ? s.state : '';
    el.replaceChildren();
    if (bad) {
      const ja = document.createElement('strong');
      ja.textContent = '⚠ ' + (s.ja || '');
      const en = document.createElement('span');
      en.lang = 'en';
      en.textContent = ' ' + (s.en || '');
      el.append(ja, en);
    }
    clearTimeout(serviceTimer);
    serviceTimer = bad ? setTimeout(refreshReaders, 2000) : null;
  }

  async function refreshReaders() {
    const seq = ++refreshSeq;
    try {
      const res = await fetch('/v1/readers', { cache: 'no-store' });
      const j = await res.json();
      if (seq !== refreshSeq) return;
      const names = (j.readers || []).map((r) => r.name + (r.card_present ? ' ●' : ''));
      $('reader-names').textContent = names.length ? names.join(', ') : 'なし none';
      renderService(j.service);
      if (cur && !(j.readers || []).some((r) => r.name === cur.reader && r.card_present)) clearScreen();
      if (!cur) {
        const withCard = (j.readers || []).find((r) => r.card_present);
        if (withCard) startRead(withCard.name);
      }
    } catch (e) { /* the stream reconnects */ }
  }

  // --- clinic mode: face results beside the card read here ---
  function clearClinic() {
    if (!clinicMode) return;
    show($('clinic-result'), false);
    show($('clinic-waiting'), true);
    for (const id of ['q-name', 'q-birth', 'q-insurer', 'q-ratio', 'match', 'match-details', 'eligibility-badge', 'eligibility-note']) $(id).textContent = '';
    $('clinic-result').classList.remove('mismatch');
  }

  function onFace(name, f) {
    if (name !== 'face') return;
    show($('clinic-waiting'), false);
    show($('clinic-result'), true);
    const badge = $('eligibility-badge');
    const e = f.eligibility;
    if (!e) {
      badge.className = 'badge unknown';
      jaEn(badge, '読めません', 'unreadable result: ' + (f.error || ''));
      return;
    }
    // Patient match comes first: a result that does not match the card
    // read here is 「要確認」, whatever its validity says.
    const mismatch = !!(f.match && !f.match.agrees);
    $('clinic-result').classList.toggle('mismatch', mismatch);
    if (mismatch) {
      badge.className = 'badge check';
      jaEn(badge, '⚠ 要確認', 'check: the result is not for this card');
      jaEn($('eligibility-note'), '資格確認の結果（カードと一致しないため参考）: ' + (e.validity.ja || '不明'), 'eligibility result, for reference only: ' + (e.validity.en || 'unknown'));
    } else {
      badge.className = 'badge ' + (e.success ? 'valid' : 'invalid');
      jaEn(badge, e.validity.ja || '不明', e.validity.en || 'unknown');
    }
    const q = (e.qualifications || [])[0];
    if (q) {
      $('q-name').textContent = q.name || '';
      $('q-birth').textContent = dateLabel(q.birth_date);
      $('q-insurer').textContent = (q.insurer_name || '') + ' (' + (q.insurer_number || '') + ')';
      if (q.contribution_ratio) $('q-ratio').textContent = q.contribution_ratio.label + ' (' + q.contribution_ratio.percent + '%)';
    }
    const m = $('match');
    m.className = '';
    const details = $('match-details');
    details.textContent = '';
    if (!f.match) {
      jaEn(m, '窓口でのカードの読み取りがありません', 'no card read at this counter to compare with');
    } else if (f.match.agrees) {
      jaEn(m, '✔ 氏名・生年月日がカードと一致', 'name and birth date match the card');
    } else {
      m.className = 'problem';
      jaEn(m, '✖ カードと一致しません。本人かどうか確認してください', 'does not match the card: check who the patient is');
      for (const d of f.match.disagreements || []) {
        const li = document.createElement('li');
        li.textContent = d.detail + (d.card ? ' — カード card: ' + d.card : '') + (d.result ? ' / 結果 result: ' + d.result : '');
        details.append(li);
      }
    }
  }

  // --- start ---
  $('print').addEventListener('click', () => window.print());
  $('reveal-form').addEventListener('submit', reveal);
  $('again').addEventListener('click', () => {
    const reader = cur && cur.reader;
    clearScreen();
    if (reader) startRead(reader);
  });
  $('consent-cancel').addEventListener('click', cancelOp);
  $('consent-dialog').addEventListener('cancel', (ev) => { ev.preventDefault(); cancelOp(); });

  // begin opens the session (from the address's ticket, or the one this
  // tab holds) and follows the bridge's events. A ticket may also arrive
  // as a change of the fragment alone, which loads nothing.
  let started = false;
  async function begin() {
    await openSession();
    if (!token) {
      if (!started) closed();
      return;
    }
    if (started) return;
    started = true;
    show($('closed'), false);
    show($('main'), true);
    show($('mode'), true);
    follow('/v1/events', onEvent, () => {
      jaEn($('connection'), '接続しました', 'connected to the bridge');
      refreshReaders();
      refreshPending();
    }, () => { if (token) jaEn($('connection'), '再接続中', 'reconnecting…'); });
    if (clinicMode) {
      // Patient match comes first: the eligibility result above the card.
      $('main').insertBefore($('clinic'), $('waiting'));
      show($('clinic'), true);
      follow('/v1/oqs/events', onFace);
    }
  }
  window.addEventListener('hashchange', begin);
  begin();
})();
