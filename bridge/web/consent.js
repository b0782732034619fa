// mynakit consent page: the Allow button is armed only after the page has
// been visible for a moment (the bridge checks the same on its side), so
// that a click or key press meant for another window cannot approve.
'use strict';

(function () {
  const box = document.querySelector('.buttons[data-arm]');
  const allow = document.getElementById('allow');
  if (!box || !allow) return;
  const wait = Math.max(0, parseInt(box.dataset.arm, 10) || 0);
  let timer = null;
  function arm() {
    if (timer) clearTimeout(timer);
    allow.disabled = true;
    if (document.visibilityState !== 'visible') return;
    timer = setTimeout(() => { allow.disabled = false; }, wait);
  }
  document.addEventListener('visibilitychange', arm);
  arm();
})();
