// mynakit consent page: the Allow button is armed only after the page has
// been visible for a moment (the bridge checks the same on its side), so
// that a click or key press meant for another window cannot approve.
//
// The answer goes with the counter's session token as a bearer token,
// never in a cookie (a browser sends a host's cookies to every port of
// it): the form is sent with fetch() and the bridge's answer replaces the
// page. In the counter page's dialog the token is in this tab's
// sessionStorage; in a pop-up a site opened, the page borrows it from an
// open page of the bridge over a BroadcastChannel, which only pages of the
// bridge's own origin (scheme, host and port) can join.
'use strict';

(function () {
  const KEY = 'mynakit-session';
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('mynakit-session') : null;

  function stored() {
    try { return sessionStorage.getItem(KEY); } catch (e) { return null; }
  }

  if (channel) {
    channel.addEventListener('message', (ev) => {
      if (ev.data === 'want-session') {
        const t = stored();
        if (t) channel.postMessage({ session: t });
      }
    });
  }

  // session is this tab's session token, or one borrowed from another page
  // of the bridge, or null.
  function session() {
    const t = stored();
    if (t || !channel) return Promise.resolve(t);
    return new Promise((done) => {
      const timer = setTimeout(() => { channel.removeEventListener('message', got); done(null); }, 1500);
      function got(ev) {
        if (!ev.data || typeof ev.data.session !== 'string') return;
        clearTimeout(timer);
        channel.removeEventListener('message', got);
        try { sessionStorage.setItem(KEY, ev.data.session); } catch (e) { /* kept for this answer only */ }
        done(ev.data.session);
      }
      channel.addEventListener('message', got);
      channel.postMessage('want-session');
    });
  }

  let timer = null;
  function arm() {
    if (timer) clearTimeout(timer);
    timer = null;
    const box = document.querySelector('.buttons[data-arm]');
    const allow = document.getElementById('allow');
    if (!box || !allow) return;
    allow.disabled = true;
    if (document.visibilityState !== 'visible') return;
    const wait = Math.max(0, parseInt(box.dataset.arm, 10) || 0);
    timer = setTimeout(() => { allow.disabled = false; }, wait);
  }

  function problem(text) {
    const p = document.createElement('p');
    p.className = 'status problem';
    p.setAttribute('role', 'alert');
    p.id = 'status';
    p.textContent = text;
    const main = document.querySelector('main') || document.body;
    const old = document.getElementById('status');
    if (old) old.replaceWith(p); else main.append(p);
  }

  // show puts the bridge's answer (an HTML page) in place of this one.
  function show(html) {
    const doc = new DOMParser().parseFromString(html, 'text/html');
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    if (doc.querySelector('meta[http-equiv="refresh"]')) setTimeout(() => location.reload(), 1000);
    bind();
  }

  async function submit(ev) {
    ev.preventDefault();
    const form = ev.target;
    const data = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === 'string') data.append(k, v);
    data.set('choice', ev.submitter && ev.submitter.value === 'allow' ? 'allow' : 'deny');
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' };
    const t = await session();
    if (!t) {
      // Only the counter's session answers (the bridge checks it too):
      // the form stays, to be sent once the counter page is open.
      problem('このブラウザで窓口画面（mynakit open）を開いてから、もう一度押してください。 Open the counter page in this browser (mynakit open), then press again.');
      for (const b of form.querySelectorAll('button')) b.disabled = false;
      arm();
      return;
    }
    headers.Authorization = 'Bearer ' + t;
    let res;
    try {
      res = await fetch(form.getAttribute('action'), { method: 'POST', headers: headers, body: data.toString(), cache: 'no-store', credentials: 'omit', redirect: 'error' });
    } catch (e) {
      problem('送信できませんでした could not reach the bridge');
      for (const b of form.querySelectorAll('button')) b.disabled = false;
      arm();
      return;
    }
    const type = res.headers.get('Content-Type') || '';
    const body = await res.text();
    if (type.startsWith('text/html')) {
      show(body);
      return;
    }
    let msg = 'エラー error ' + res.status;
    try { msg = JSON.parse(body).error.message || msg; } catch (e) { /* keep the status */ }
    problem(msg);
    for (const b of form.querySelectorAll('button')) b.disabled = false;
    arm();
  }

  function bind() {
    const form = document.getElementById('consent-form');
    if (form) form.addEventListener('submit', submit);
    arm();
  }

  document.addEventListener('visibilitychange', arm);
  bind();
})();
