/* mqconsole: the web page of the rmq console.
 *
 * Plain ES2020, no dependencies, nothing fetched from elsewhere. Layout of this file:
 *   1. state and constants
 *   2. small helpers: DOM building, formatting, the API client, banner and field errors,
 *      tables, charts, forms and validation
 *   3. session, login and logout
 *   4. the hash router and polling
 *   5. one function per page (plus the topic, group and message detail views)
 *
 * Text that comes from the cluster or from users is only ever put into the page with
 * textContent / createTextNode, never as HTML.
 */
'use strict';

(function () {
  // ---------------------------------------------------------------------------------------------
  // 1. State and constants

  const POLL_MS = 5000;
  const PAGE_SIZE = 20;
  const NAME_RE = /^[%|a-zA-Z0-9_-]+$/;
  const NAME_MAX = 127;
  const SVGNS = 'http://www.w3.org/2000/svg';
  const TOPIC_KINDS = ['all', 'normal', 'retry', 'dlq', 'fifo', 'delay', 'transaction', 'system'];

  const state = {
    session: null, // {user, role, csrf, loginRequired}
    gen: 0, // bumped on every page change; async work of an older page is dropped
    timers: [],
    flash: null, // banner to show after the next page change: [text, kind]
    topicKind: 'all',
    prefillTopic: '', // for the messages page, set by a link on the topic detail
    prefillGroup: '', // for the dead letters page, set by a link on the group detail
  };

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const isAdmin = () => !!state.session && state.session.role !== 'readonly';
  const live = (gen) => gen === state.gen;

  // ---------------------------------------------------------------------------------------------
  // 2. Helpers

  // --- DOM building ---

  /** el('tag', {attrs}, children...): attrs `class`, `text`, `dataset`, `on<event>`, DOM props
   *  (value, checked, disabled, hidden, readOnly) or plain attributes; children are nodes,
   *  strings (as text) or arrays; null/undefined/false are skipped. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else if (['value', 'checked', 'disabled', 'hidden', 'readOnly'].includes(k)) node[k] = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    appendAll(node, children);
    return node;
  }

  function appendAll(node, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) appendAll(node, c);
      else if (c instanceof Node) node.appendChild(c);
      else node.appendChild(document.createTextNode(String(c)));
    }
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  /** A <select> of [value, label] pairs (or plain values) with `selected` chosen. */
  function select(attrs, options, selected) {
    const s = el('select', attrs);
    for (const o of options) {
      const [value, label] = Array.isArray(o) ? o : [o, o];
      s.appendChild(el('option', { value: String(value), selected: String(value) === String(selected) }, label));
    }
    return s;
  }

  function link(href, text, attrs) {
    return el('a', Object.assign({ href }, attrs || {}), text);
  }

  function button(id, text, onclick, cls) {
    return el('button', { id, type: 'button', class: cls || null, onclick }, text);
  }

  function markLoaded(...nodes) {
    for (const n of nodes) if (n) n.setAttribute('data-loaded', 'true');
  }

  /** A definition list of [label, value] pairs, values as text (or nodes). */
  function kvList(pairs, attrs) {
    return el('dl', Object.assign({ class: 'kv' }, attrs || {}),
      pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v === null || v === undefined ? '' : v)]));
  }

  const topicHref = (name) => '#/topics/' + enc(name);
  const groupHref = (name) => '#/consumers/' + enc(name);

  // --- Formatting ---

  const pad = (n) => String(n).padStart(2, '0');
  const absent = (v) => v === null || v === undefined || v === '';

  /** Local "YYYY-MM-DD HH:MM:SS"; blank for absent or non-positive times. */
  function fmtTime(ms) {
    if (absent(ms) || !(Number(ms) > 0)) return '';
    const d = new Date(Number(ms));
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function fmtHM(ms) {
    const d = new Date(Number(ms));
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  /** Value for <input type=datetime-local>: local "YYYY-MM-DDTHH:MM". */
  function toLocalInput(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  /** Parses a datetime-local value as local time: {ms, seconds: whether seconds were given}, or null. */
  function parseLocalInput(s) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec((s || '').trim());
    if (!m) return null;
    const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0), +((m[7] || '0').padEnd(3, '0')));
    return Number.isNaN(d.getTime()) ? null : { ms: d.getTime(), seconds: m[6] !== undefined };
  }

  /** A number as given (blank when absent); TPS-like figures are rounded to one decimal. */
  function fmtNum(v) {
    if (absent(v)) return '';
    const n = Number(v);
    if (!Number.isFinite(n)) return String(v);
    return Number.isInteger(n) ? String(n) : String(Math.round(n * 10) / 10);
  }

  function fmtPct(ratio) {
    if (absent(ratio) || !Number.isFinite(Number(ratio))) return '';
    return (Number(ratio) * 100).toFixed(1) + '%';
  }

  function fmtKeys(keys) {
    if (Array.isArray(keys)) return keys.join(' ');
    return absent(keys) ? '' : String(keys);
  }

  function permText(p) {
    const names = { 6: 'RW', 4: 'R', 2: 'W' };
    return absent(p) ? '' : names[p] ? `${p} (${names[p]})` : String(p);
  }

  function queryString(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (!absent(v)) q.set(k, String(v));
    return q.toString();
  }

  // --- API client ---

  class ApiError extends Error {
    constructor(status, message, field) {
      super(message);
      this.status = status;
      this.field = field || null;
      this.handled = false; // true when already dealt with (a 401 showed the login form)
    }
  }

  /** Calls the API; resolves to the JSON answer (null for 204), rejects with ApiError.
   *  Every non-GET request carries the CSRF token and a JSON content type. */
  async function api(method, path, body) {
    const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.headers['X-CSRF-Token'] = state.session ? state.session.csrf || '' : '';
      if (body !== undefined) opts.body = JSON.stringify(body);
      else if (method === 'POST') opts.body = '{}';
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, `cannot reach the console server (${e.message})`);
    }
    const text = res.status === 204 ? '' : await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!res.ok) {
      const msg = (data && data.error) || `${method} ${path}: HTTP ${res.status} ${res.statusText}`.trim();
      const err = new ApiError(res.status, msg, data && data.field);
      if (res.status === 401 && path !== '/api/login') {
        showLogin();
        err.handled = true;
      }
      throw err;
    }
    return data;
  }

  // --- Banner and field errors ---

  /** Shows a message in #banner: kind 'error' or 'ok'; an empty text hides it. */
  function banner(text, kind, source) {
    const b = $('banner');
    b.textContent = text || '';
    b.className = text ? (kind || 'error') : '';
    b.dataset.source = source || '';
    b.hidden = !text;
  }

  const clearBanner = () => banner('');

  function fieldError(prefix, field, message) {
    const node = $(`err-${prefix}-${field}`);
    if (!node) return false;
    node.textContent = message;
    return true;
  }

  function clearErrors(root) {
    root.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
  }

  /** Shows an error: next to its form field (err-<prefix>-<field>) when there is one, else in the
   *  banner. `aliases` maps API field names to this form's field names. */
  function showError(err, prefix, aliases) {
    if (!err || err.handled) return;
    if (!(err instanceof ApiError)) console.error(err);
    const field = err.field ? (aliases && aliases[err.field]) || err.field : null;
    if (field && prefix && fieldError(prefix, field, err.message)) return;
    banner(err.message || String(err), 'error');
  }

  // --- Validation (before anything is sent) ---

  function nameProblem(v, what) {
    if (!v) return `${what} is required`;
    if (v.length > NAME_MAX) return `${what} must be at most ${NAME_MAX} characters (it has ${v.length})`;
    if (!NAME_RE.test(v)) return `${what} may only contain letters, digits, %, |, _ and -`;
    return null;
  }

  function intProblem(v, lo, hi, what) {
    const s = String(v).trim();
    if (!/^\d+$/.test(s) || Number(s) < lo || Number(s) > hi) return `${what} must be a whole number from ${lo} to ${hi}`;
    return null;
  }

  /** Puts each non-null problem next to its field; true when there is none. */
  function checkFields(prefix, problems) {
    let ok = true;
    for (const [field, message] of Object.entries(problems)) {
      if (!message) continue;
      ok = false;
      if (!fieldError(prefix, field, message)) banner(message, 'error');
    }
    return ok;
  }

  // --- Forms ---

  /** A labelled input with its error slot err-<prefix>-<field>. */
  function field(label, input, prefix, name, hint) {
    return el('label', { class: 'field' },
      el('span', { class: 'lbl' }, label),
      input,
      hint ? el('span', { class: 'hint' }, hint) : null,
      el('span', { class: 'field-error', id: `err-${prefix}-${name}`, role: 'alert' }));
  }

  function input(id, attrs) {
    return el('input', Object.assign({ id, type: 'text', autocomplete: 'off', spellcheck: 'false' }, attrs || {}));
  }

  /** Runs an action: clears the form's field errors, disables `busy` buttons meanwhile, and shows
   *  errors next to fields (prefix/aliases) or in the banner. */
  async function run(action, opts) {
    const o = opts || {};
    if (o.form) clearErrors(o.form);
    const buttons = o.busy || [];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await action();
    } catch (err) {
      showError(err, o.prefix, o.aliases);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  /** A <form> whose submit runs `onSubmit` through run(). */
  function makeForm(opts, ...children) {
    const f = el('form', { id: opts.id, class: 'form ' + (opts.class || ''), novalidate: true }, ...children);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      clearBanner();
      const busy = [...f.querySelectorAll('button[type=submit]')];
      run(() => opts.onSubmit(f), { form: f, prefix: opts.prefix, aliases: opts.aliases, busy });
    });
    return f;
  }

  // --- Tables ---

  /** A table with headers and an empty tbody, wrapped with a "nothing" note.
   *  wrap.fill(rows, key) replaces the rows; when `key` equals the last one nothing changes
   *  (polling then does not rebuild identical rows). opts.nums: indexes of numeric columns. */
  function makeTable(id, headers, opts) {
    const o = opts || {};
    const nums = new Set(o.nums || []);
    const tbody = el('tbody');
    const table = el('table', { id, class: 'grid' },
      el('thead', {}, el('tr', {}, headers.map((h, i) => el('th', { class: nums.has(i) ? 'num' : null }, h)))),
      tbody);
    const empty = el('p', { class: 'empty', hidden: true }, o.empty || 'nothing to show');
    const wrap = el('div', { class: 'table-wrap' }, table, empty);
    let lastKey;
    wrap.table = table;
    wrap.fill = (rows, key) => {
      if (key !== undefined && key === lastKey) return false;
      lastKey = key;
      tbody.replaceChildren(...rows);
      for (const row of rows) {
        [...row.children].forEach((td, i) => { if (nums.has(i)) td.classList.add('num'); });
      }
      empty.hidden = rows.length > 0;
      return true;
    };
    return wrap;
  }

  /** A <tr> of cells: nodes or text (a <td> is passed through). */
  function row(cells, attrs) {
    return el('tr', attrs, cells.map((c) => (c instanceof HTMLElement && c.tagName === 'TD' ? c : el('td', {}, c))));
  }

  function statusCell(up, error) {
    return el('td', {}, el('span', { class: up ? 'pill up' : 'pill down', title: error || null }, up ? 'up' : 'down'));
  }

  // --- Charts ---

  /** Draws a small SVG line chart of [[tsMs, value], ...] into `box`: time (HH:MM) on x, value on
   *  y with min/max labels. An empty series shows "collecting samples…". */
  function drawChart(box, series, label) {
    const pts = (series || [])
      .filter((p) => Array.isArray(p) && Number.isFinite(Number(p[0])) && Number.isFinite(Number(p[1])))
      .map((p) => [Number(p[0]), Number(p[1])])
      .sort((a, b) => a[0] - b[0]);
    if (!pts.length) {
      box.replaceChildren(el('p', { class: 'chart-empty' }, 'collecting samples…'));
      return;
    }
    const W = 560, H = 190, L = 58, R = 14, T = 14, B = 28;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const x0 = xs[0], x1 = xs[xs.length - 1];
    const lo = Math.min(...ys), hi = Math.max(...ys);
    const fx = (t) => (x1 === x0 ? (L + W - R) / 2 : L + ((t - x0) / (x1 - x0)) * (W - L - R));
    const fy = (v) => (hi === lo ? (T + H - B) / 2 : T + (1 - (v - lo) / (hi - lo)) * (H - T - B));
    const r1 = (v) => Math.round(v * 10) / 10;
    const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img' },
      svg('title', {}, `${label}: ${pts.length} samples from ${fmtHM(x0)} to ${fmtHM(x1)}`));
    // axes
    g.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
    g.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
    // y labels: max at the top, min at the bottom (one label when the line is flat)
    if (hi === lo) {
      g.appendChild(svg('line', { x1: L, y1: fy(lo), x2: W - R, y2: fy(lo), class: 'grid-line' }));
      g.appendChild(svg('text', { x: L - 6, y: fy(lo) + 4, class: 'lbl', 'text-anchor': 'end' }, fmtNum(lo)));
    } else {
      g.appendChild(svg('line', { x1: L, y1: T, x2: W - R, y2: T, class: 'grid-line' }));
      g.appendChild(svg('text', { x: L - 6, y: T + 4, class: 'lbl', 'text-anchor': 'end' }, 'max ' + fmtNum(hi)));
      g.appendChild(svg('text', { x: L - 6, y: H - B, class: 'lbl', 'text-anchor': 'end' }, 'min ' + fmtNum(lo)));
    }
    // x labels: first, middle and last time
    const xl = (t, anchor) => svg('text', { x: fx(t), y: H - B + 17, class: 'lbl', 'text-anchor': anchor }, fmtHM(t));
    if (x1 === x0) {
      g.appendChild(xl(x0, 'middle'));
    } else {
      g.appendChild(xl(x0, 'start'));
      if (x1 - x0 >= 4 * 60000) g.appendChild(xl(x0 + (x1 - x0) / 2, 'middle'));
      g.appendChild(xl(x1, 'end'));
    }
    // the line
    if (pts.length === 1) {
      g.appendChild(svg('circle', { cx: fx(x0), cy: fy(ys[0]), r: 3, class: 'dot' }));
    } else {
      const points = pts.map(([t, v]) => `${r1(fx(t))},${r1(fy(v))}`).join(' ');
      g.appendChild(svg('polyline', { points, class: 'line' }));
    }
    const last = pts[pts.length - 1];
    box.replaceChildren(g, el('div', { class: 'chart-caption' },
      `latest ${fmtNum(last[1])} at ${fmtHM(last[0])} · min ${fmtNum(lo)} · max ${fmtNum(hi)} · ${pts.length} samples`));
  }

  function chartBox(id, title) {
    const box = el('div', { id, class: 'chart' });
    return { box, section: el('section', { class: 'card' }, el('h3', {}, title), box) };
  }

  // ---------------------------------------------------------------------------------------------
  // 3. Session, login, logout

  function setSession(s) {
    state.session = s;
    document.body.classList.toggle('readonly', s.role === 'readonly');
    $('whoami').textContent = `${s.user} (${s.role})`;
    $('logout').hidden = s.loginRequired === false;
    $('login-view').hidden = true;
    $('app').hidden = false;
    $('login-error').textContent = '';
    loadHeaderNamesrv();
    route();
  }

  function showLogin(message) {
    state.session = null;
    stopTimers();
    state.gen++;
    document.body.classList.remove('readonly');
    $('app').hidden = true;
    $('page').replaceChildren();
    clearBanner();
    $('login-view').hidden = false;
    $('login-error').textContent = message || '';
    $('login-password').value = '';
    ($('login-user').value ? $('login-password') : $('login-user')).focus();
  }

  async function login(e) {
    e.preventDefault();
    const user = $('login-user').value.trim();
    const password = $('login-password').value;
    const errBox = $('login-error');
    errBox.textContent = '';
    if (!user) { errBox.textContent = 'enter your user name'; return; }
    if (!password) { errBox.textContent = 'enter your password'; return; }
    const btn = $('login-submit');
    btn.disabled = true;
    try {
      const s = await api('POST', '/api/login', { user, password });
      $('login-password').value = '';
      setSession(s);
    } catch (err) {
      errBox.textContent = err.message;
    } finally {
      btn.disabled = false;
    }
  }

  async function logout() {
    try {
      await api('POST', '/api/logout');
    } catch (err) {
      if (err.handled) return;
    }
    showLogin();
  }

  function setHeaderNamesrv(current) {
    $('header-namesrv').textContent = current || '?';
  }

  function loadHeaderNamesrv() {
    api('GET', '/api/namesrv').then((d) => setHeaderNamesrv(d && d.current), (err) => showError(err));
  }

  // ---------------------------------------------------------------------------------------------
  // 4. Router and polling

  const PAGES = {
    overview: pageOverview,
    cluster: pageCluster,
    topics: pageTopics,
    consumers: pageConsumers,
    producers: pageProducers,
    messages: pageMessages,
    dlq: pageDlq,
    namesrv: pageNamesrv,
  };

  /** "#/topics/NAME" -> {name: 'topics', arg: 'NAME'}; unknown or empty -> overview. */
  function parseHash() {
    const h = location.hash.replace(/^#\/?/, '');
    const i = h.indexOf('/');
    const name = i < 0 ? h : h.slice(0, i);
    let arg = i < 0 ? '' : h.slice(i + 1);
    try { arg = decodeURIComponent(arg); } catch (_) { /* keep it as typed */ }
    return PAGES[name] ? { name, arg } : { name: 'overview', arg: '' };
  }

  function route() {
    if (!state.session) return;
    stopTimers();
    const gen = ++state.gen;
    const { name, arg } = parseHash();
    document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.id === 'nav-' + name));
    if (state.flash) {
      banner(state.flash[0], state.flash[1]);
      state.flash = null;
    } else {
      clearBanner();
    }
    const root = el('div', { id: 'page-' + name, class: 'page' });
    $('page').replaceChildren(root);
    window.scrollTo(0, 0);
    Promise.resolve()
      .then(() => PAGES[name](root, arg, gen))
      .catch((err) => { if (live(gen)) showError(err); });
  }

  /** Navigates, showing `text` in the banner on the new page. */
  function go(hash, text, kind) {
    if (text) state.flash = [text, kind || 'ok'];
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function stopTimers() {
    state.timers.forEach(clearInterval);
    state.timers = [];
  }

  /** Calls `load` every POLL_MS while this page is shown and the tab is visible. A failing poll
   *  shows its error in the banner; the next good one clears it again. */
  function poll(gen, load) {
    let busy = false;
    const t = setInterval(async () => {
      if (!live(gen) || document.hidden || busy) return;
      busy = true;
      try {
        await load();
        if ($('banner').dataset.source === 'poll') clearBanner();
      } catch (err) {
        if (live(gen) && !err.handled) banner(err.message, 'error', 'poll');
      } finally {
        busy = false;
      }
    }, POLL_MS);
    state.timers.push(t);
  }

  // ---------------------------------------------------------------------------------------------
  // 5. Pages

  // --- Overview ---

  async function pageOverview(root, _arg, gen) {
    const brokers = makeTable('overview-brokers', ['cluster', 'broker', 'id', 'addr', 'status', 'error'],
      { nums: [2], empty: 'no broker registered' });
    const namesrvs = makeTable('overview-namesrvs', ['addr', 'status', 'error'], { empty: 'no name server' });
    const put = chartBox('chart-put', 'Put TPS (whole cluster)');
    const get = chartBox('chart-get', 'Get TPS (whole cluster)');
    const tops = [
      ['top-topics-traffic', 'Topics by traffic (TPS)', 'topTopicsByTraffic', topicHref],
      ['top-topics-backlog', 'Topics by backlog', 'topTopicsByBacklog', topicHref],
      ['top-groups-traffic', 'Groups by traffic (TPS)', 'topGroupsByTraffic', groupHref],
      ['top-groups-backlog', 'Groups by backlog', 'topGroupsByBacklog', groupHref],
    ].map(([id, title, key, href]) => ({ key, href, list: el('ol', { id, class: 'top' }), title }));
    const info = el('p', { class: 'muted' });

    root.append(
      el('h1', {}, 'Overview'),
      el('div', { class: 'cols' },
        el('section', { class: 'card' }, el('h3', {}, 'Brokers'), brokers),
        el('section', { class: 'card' }, el('h3', {}, 'Name servers'), namesrvs)),
      el('div', { class: 'cols' }, put.section, get.section),
      el('div', { class: 'cols four' }, tops.map((t) => el('section', { class: 'card' }, el('h3', {}, t.title), t.list))),
      info);

    async function load() {
      const d = await api('GET', '/api/overview');
      if (!live(gen)) return;
      const bs = d.brokers || [];
      brokers.fill(bs.map((b) => row([b.cluster, b.brokerName, fmtNum(b.brokerId), b.addr,
        statusCell(b.up, b.error), b.error || ''], { class: b.up ? null : 'row-down' })), JSON.stringify(bs));
      const ns = d.namesrvs || [];
      namesrvs.fill(ns.map((n) => row([n.addr, statusCell(n.up, n.error), n.error || ''],
        { class: n.up ? null : 'row-down' })), JSON.stringify(ns));
      const series = d.series || {};
      drawChart(put.box, series.put, 'put TPS');
      drawChart(get.box, series.get, 'get TPS');
      for (const t of tops) {
        t.list.replaceChildren(...(d[t.key] || []).slice(0, 5).map((it) =>
          el('li', {}, link(t.href(it.name), it.name), el('span', { class: 'val' }, fmtNum(it.value)))));
      }
      info.textContent = absent(d.sampleIntervalSecs) ? ''
        : `The console samples the brokers every ${d.sampleIntervalSecs} s; ${fmtNum(d.samples)} samples so far. ` +
          'Refreshes every 5 s.';
      markLoaded(root);
    }
    poll(gen, load);
    await load();
  }

  // --- Cluster ---

  async function pageCluster(root, _arg, gen) {
    const table = makeTable('cluster-brokers',
      ['cluster', 'broker name', 'id', 'addr', 'role', 'version', 'put TPS', 'get TPS', 'disk use',
        'runtime', 'epoch', 'SyncStateSet', 'error', ''],
      { nums: [2, 6, 7, 8, 10], empty: 'no broker registered' });
    const holder = el('div', { id: 'broker-config-holder' });
    root.append(el('h1', {}, 'Cluster'), el('section', { class: 'card' }, table), holder);

    async function load() {
      const d = await api('GET', '/api/cluster');
      if (!live(gen)) return;
      const bs = d.brokers || [];
      table.fill(bs.map((b) => row([
        b.cluster, b.brokerName, fmtNum(b.brokerId), b.addr, b.role || '', b.version || '',
        fmtNum(b.putTps), fmtNum(b.getTps), fmtPct(b.diskRatio), b.runtime || '', fmtNum(b.epoch),
        Array.isArray(b.syncStateSet) ? b.syncStateSet.join(', ') : '',
        b.error ? el('span', { class: 'error-text' }, b.error) : '',
        el('button', { type: 'button', class: 'small broker-config-open', 'data-addr': b.addr,
          onclick: () => run(() => openBrokerConfig(holder, b.addr, gen)) }, 'config'),
      ], { 'data-addr': b.addr, class: b.error ? 'row-down' : null })), JSON.stringify(bs));
      markLoaded(root);
    }
    poll(gen, load);
    await load();
  }

  async function openBrokerConfig(holder, addr, gen) {
    holder.replaceChildren(el('p', { class: 'muted' }, `loading the config of ${addr}…`));
    let d;
    try {
      d = await api('GET', '/api/broker/config?' + queryString({ addr }));
    } catch (err) {
      holder.replaceChildren();
      throw err;
    }
    if (!live(gen)) return;
    const entries = Object.entries((d && d.config) || {}).sort((a, b) => a[0].localeCompare(b[0]));
    const table = makeTable('broker-config-table', ['key', 'value'], { empty: 'the broker reported no config' });
    const inputs = [];
    table.fill(entries.map(([k, v]) => {
      const inp = el('input', { type: 'text', class: 'cfg-value', 'data-key': k, value: String(v ?? ''),
        readOnly: !isAdmin(), 'aria-label': k, spellcheck: 'false' });
      inp.dataset.orig = inp.value;
      inp.addEventListener('input', () => inp.classList.toggle('changed', inp.value !== inp.dataset.orig));
      inputs.push(inp);
      return row([el('code', {}, k), inp], { 'data-key': k });
    }));
    const filter = input('broker-config-filter', { placeholder: 'filter keys', type: 'search' });
    filter.addEventListener('input', () => {
      const f = filter.value.trim().toLowerCase();
      table.table.querySelectorAll('tbody tr').forEach((tr) => { tr.hidden = !!f && !tr.dataset.key.toLowerCase().includes(f); });
    });
    const save = button('broker-config-save', 'Save changes', null, 'primary admin-only');
    save.addEventListener('click', () => run(async () => {
      clearBanner();
      const changes = {};
      for (const inp of inputs) if (inp.value !== inp.dataset.orig) changes[inp.dataset.key] = inp.value;
      const keys = Object.keys(changes);
      if (!keys.length) { banner('nothing changed: edit a value first', 'error'); return; }
      await api('POST', '/api/broker/config', { addr, changes });
      for (const inp of inputs) { inp.dataset.orig = inp.value; inp.classList.remove('changed'); }
      banner(`saved on ${addr}: ${keys.join(', ')}`, 'ok');
    }, { busy: [save] }));
    const close = button('broker-config-close', 'Close', () => holder.replaceChildren(), 'small');
    holder.replaceChildren(el('section', { id: 'broker-config', class: 'card', 'data-addr': addr },
      el('div', { class: 'card-head' }, el('h2', {}, 'Broker config ', el('code', {}, addr)), close),
      el('div', { class: 'toolbar' }, filter, save,
        el('span', { class: 'muted' }, isAdmin() ? 'Only the values you change are sent.' : 'read-only')),
      table));
    markLoaded($('broker-config'));
    $('broker-config').scrollIntoView({ block: 'start' });
  }

  // --- Topics ---

  async function pageTopics(root, arg, gen) {
    if (arg) return topicDetail(root, arg, gen);
    const kind = select({ id: 'topic-kind' }, TOPIC_KINDS, state.topicKind);
    const filter = input('topic-filter', { type: 'search', placeholder: 'filter by name' });
    const count = el('span', { class: 'muted' });
    const table = makeTable('topic-list', ['name', 'kind'], { empty: 'no topic of this kind' });
    let topics = [];

    function render() {
      const f = filter.value.trim().toLowerCase();
      const shown = topics.filter((t) => !f || t.name.toLowerCase().includes(f));
      table.fill(shown.map((t) => row([link(topicHref(t.name), t.name), t.kind || ''], { 'data-topic': t.name })));
      count.textContent = `${shown.length} of ${topics.length} topics`;
    }
    async function load() {
      const d = await api('GET', '/api/topics?' + queryString({ kind: kind.value }));
      if (!live(gen)) return;
      topics = (d.topics || []).slice().sort((a, b) => a.name.localeCompare(b.name));
      render();
      markLoaded(root);
    }
    kind.addEventListener('change', () => { state.topicKind = kind.value; run(load); });
    filter.addEventListener('input', render);

    const form = makeForm({
      id: 'topic-form', prefix: 'topic',
      onSubmit: async () => {
        const name = $('topic-name').value.trim();
        const rq = $('topic-read-queues').value.trim();
        const wq = $('topic-write-queues').value.trim();
        if (!checkFields('topic', {
          name: nameProblem(name, 'topic name'),
          readQueues: intProblem(rq, 1, 1024, 'read queues'),
          writeQueues: intProblem(wq, 1, 1024, 'write queues'),
        })) return;
        const body = { name, readQueues: Number(rq), writeQueues: Number(wq),
          perm: Number($('topic-perm').value), messageType: $('topic-type').value };
        const cluster = $('topic-cluster').value.trim();
        if (cluster) body.cluster = cluster;
        await api('POST', '/api/topics', body);
        banner(`topic ${name} created or updated`, 'ok');
        $('topic-name').value = '';
        if (live(gen)) await load();
      },
    },
    field('Name', input('topic-name', { maxlength: 255 }), 'topic', 'name'),
    field('Read queues', input('topic-read-queues', { value: '8', inputmode: 'numeric', size: 5 }), 'topic', 'readQueues'),
    field('Write queues', input('topic-write-queues', { value: '8', inputmode: 'numeric', size: 5 }), 'topic', 'writeQueues'),
    field('Permission', select({ id: 'topic-perm' }, [[6, '6 RW'], [4, '4 R'], [2, '2 W']], 6), 'topic', 'perm'),
    field('Type', select({ id: 'topic-type' }, ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'], 'NORMAL'), 'topic', 'messageType'),
    field('Cluster', input('topic-cluster', { placeholder: 'all clusters' }), 'topic', 'cluster'),
    el('div', { class: 'actions' }, el('button', { id: 'topic-create', type: 'submit', class: 'primary' }, 'Create / update')));

    root.append(
      el('h1', {}, 'Topics'),
      el('section', { class: 'card' },
        el('div', { class: 'toolbar' }, el('label', { class: 'inline' }, 'Kind ', kind), filter, count),
        table),
      el('section', { class: 'card admin-only' },
        el('h3', {}, 'Create or update a topic'),
        el('p', { class: 'muted' }, 'Creates the topic on every master of the cluster (default: every cluster); ' +
          'an existing topic gets the new queue counts and permission.'),
        form));
    await load();
  }

  async function topicDetail(root, name, gen) {
    const route = makeTable('topic-route', ['broker', 'cluster', 'addresses', 'read queues', 'write queues', 'perm'],
      { nums: [3, 4], empty: 'no route' });
    const stats = makeTable('topic-stats', ['broker', 'queue', 'min offset', 'max offset', 'last update'],
      { nums: [1, 2, 3], empty: 'no queue' });
    const consumers = makeTable('topic-consumers', ['group', 'backlog'], { nums: [1], empty: 'no consumer group' });
    const del = button('topic-delete', 'Delete topic', () => run(async () => {
      if (!window.confirm(`Delete topic ${name} from every broker and name server?`)) return;
      await api('DELETE', '/api/topics/' + enc(name));
      go('#/topics', `topic ${name} deleted`);
    }, { busy: [del] }), 'danger admin-only');
    const result = el('div', { id: 'send-result', class: 'result', hidden: true });
    const sendForm = makeForm({
      id: 'send-form', prefix: 'send',
      onSubmit: async () => {
        const body = { body: $('send-body').value };
        if (!checkFields('send', { body: body.body ? null : 'the message body is empty' })) return;
        const tag = $('send-tag').value.trim(), key = $('send-key').value.trim();
        if (tag) body.tag = tag;
        if (key) body.key = key;
        const r = await api('POST', `/api/topics/${enc(name)}/send`, body);
        result.dataset.msgId = r.msgId || '';
        result.dataset.offsetMsgId = r.offsetMsgId || '';
        result.replaceChildren(kvList([['status', r.status], ['msgId', r.msgId], ['offsetMsgId', r.offsetMsgId],
          ['broker', r.brokerName], ['queue', fmtNum(r.queueId)], ['queue offset', fmtNum(r.queueOffset)]]));
        result.hidden = false;
        banner(`sent to ${name}: ${r.status}`, 'ok');
        if (live(gen)) loadStats().catch((err) => showError(err));
      },
    },
    field('Tag', input('send-tag'), 'send', 'tag'),
    field('Key', input('send-key'), 'send', 'key'),
    field('Body', el('textarea', { id: 'send-body', rows: 4, spellcheck: 'false' }), 'send', 'body'),
    el('div', { class: 'actions' }, el('button', { id: 'send-submit', type: 'submit', class: 'primary' }, 'Send')));

    const detail = el('section', { id: 'topic-detail', 'data-topic': name },
      el('div', { class: 'card-head' }, el('h1', {}, 'Topic ', el('code', {}, name)), del),
      el('p', {}, link('#/messages', 'Browse its messages', { onclick: () => { state.prefillTopic = name; } })),
      el('div', { class: 'cols' },
        el('section', { class: 'card' }, el('h3', {}, 'Route'), route),
        el('section', { class: 'card' }, el('h3', {}, 'Consumer groups'), consumers)),
      el('section', { class: 'card' }, el('h3', {}, 'Queues'), stats),
      el('section', { class: 'card admin-only' }, el('h3', {}, 'Send a test message'), sendForm, result));
    root.append(link('#/topics', '← all topics', { class: 'back' }), detail);

    async function loadStats() {
      const d = await api('GET', `/api/topics/${enc(name)}/stats`);
      if (!live(gen)) return;
      const qs = (d.queues || []).slice().sort((a, b) =>
        String(a.brokerName).localeCompare(String(b.brokerName)) || a.queueId - b.queueId);
      stats.fill(qs.map((q) => row([q.brokerName, fmtNum(q.queueId), fmtNum(q.minOffset), fmtNum(q.maxOffset),
        fmtTime(q.lastUpdateTimestamp)])));
    }
    async function loadRoute() {
      const r = (await api('GET', `/api/topics/${enc(name)}/route`)) || {};
      if (!live(gen)) return;
      const bds = r.brokerDatas || [], qds = r.queueDatas || [];
      const names = [...new Set([...qds.map((q) => q.brokerName), ...bds.map((b) => b.brokerName)])].sort();
      route.fill(names.map((n) => {
        const b = bds.find((x) => x.brokerName === n) || {};
        const q = qds.find((x) => x.brokerName === n) || {};
        const addrs = Object.entries(b.brokerAddrs || {}).sort((x, y) => Number(x[0]) - Number(y[0]))
          .map(([id, a]) => `${id}: ${a}`).join(', ');
        return row([n, b.cluster || '', addrs, fmtNum(q.readQueueNums), fmtNum(q.writeQueueNums), permText(q.perm)]);
      }));
    }
    async function loadConsumers() {
      const d = await api('GET', `/api/topics/${enc(name)}/consumers`);
      if (!live(gen)) return;
      consumers.fill((d.groups || []).map((g) => row([link(groupHref(g.group), g.group), fmtNum(g.backlog)],
        { 'data-group': g.group })));
    }
    const results = await Promise.allSettled([loadRoute(), loadStats(), loadConsumers()]);
    if (!live(gen)) return;
    const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failed.length) showError(failed[0]);
    markLoaded(root, detail);
  }

  // --- Consumer groups ---

  async function pageConsumers(root, arg, gen) {
    if (arg) return groupDetail(root, arg, gen);
    const filter = input('group-filter', { type: 'search', placeholder: 'filter by name' });
    const count = el('span', { class: 'muted' });
    const table = makeTable('group-list', ['group', 'backlog', 'TPS', 'clients', 'type', 'model'],
      { nums: [1, 2, 3], empty: 'no consumer group' });
    let groups = [];

    function render() {
      const f = filter.value.trim().toLowerCase();
      const shown = groups.filter((g) => !f || g.group.toLowerCase().includes(f));
      table.fill(shown.map((g) => row([link(groupHref(g.group), g.group), fmtNum(g.backlog), fmtNum(g.tps),
        fmtNum(g.clients), g.consumeType || '', g.messageModel || ''], { 'data-group': g.group })));
      count.textContent = `${shown.length} of ${groups.length} groups`;
    }
    async function load() {
      const d = await api('GET', '/api/groups');
      if (!live(gen)) return;
      groups = (d.groups || []).slice().sort((a, b) => a.group.localeCompare(b.group));
      render();
      markLoaded(root);
    }
    filter.addEventListener('input', render);

    const form = makeForm({
      id: 'group-form', prefix: 'group', aliases: { group: 'name' },
      onSubmit: async () => {
        const group = $('group-name').value.trim();
        const retry = $('group-retry-max').value.trim();
        if (!checkFields('group', {
          name: nameProblem(group, 'group name'),
          retryMaxTimes: intProblem(retry, 0, 1000, 'retry max times'),
        })) return;
        const body = { group, retryMaxTimes: Number(retry), consumeBroadcastEnable: $('group-broadcast').checked,
          consumeEnable: true };
        const cluster = $('group-cluster').value.trim();
        if (cluster) body.cluster = cluster;
        await api('POST', '/api/groups', body);
        banner(`consumer group ${group} created or updated`, 'ok');
        $('group-name').value = '';
        if (live(gen)) await load();
      },
    },
    field('Name', input('group-name', { maxlength: 255 }), 'group', 'name'),
    field('Retry max times', input('group-retry-max', { value: '16', inputmode: 'numeric', size: 5 }), 'group', 'retryMaxTimes'),
    el('label', { class: 'field check' }, el('input', { id: 'group-broadcast', type: 'checkbox' }), ' broadcast',
      el('span', { class: 'field-error', id: 'err-group-consumeBroadcastEnable' })),
    field('Cluster', input('group-cluster', { placeholder: 'all clusters' }), 'group', 'cluster'),
    el('div', { class: 'actions' }, el('button', { id: 'group-create', type: 'submit', class: 'primary' }, 'Create / update')));

    root.append(
      el('h1', {}, 'Consumer groups'),
      el('section', { class: 'card' }, el('div', { class: 'toolbar' }, filter, count), table),
      el('section', { class: 'card admin-only' }, el('h3', {}, 'Create or update a consumer group'), form));
    await load();
  }

  async function groupDetail(root, group, gen) {
    const backlog = el('span', { id: 'group-backlog', class: 'big' });
    const chart = chartBox('chart-backlog', 'Backlog (last hour)');
    const queues = makeTable('group-queues', ['topic', 'broker', 'queue', 'broker offset', 'consumer offset',
      'backlog', 'last consumed'], { nums: [2, 3, 4, 5], empty: 'no consumed queue' });
    const clients = makeTable('group-clients', ['client id', 'address', 'language', 'version'],
      { empty: 'no client online' });
    const subs = makeTable('group-subscriptions', ['topic', 'expression'], { empty: 'no subscription' });
    const running = el('pre', { id: 'client-running', class: 'json', hidden: true });
    const runningTitle = el('h3', { hidden: true });
    const topicSel = el('select', { id: 'reset-topic' });
    const resetResult = el('div', { id: 'reset-result' });

    const del = button('group-delete', 'Delete group', () => run(async () => {
      if (!window.confirm(`Delete consumer group ${group} from every broker?`)) return;
      await api('DELETE', '/api/groups/' + enc(group));
      go('#/consumers', `consumer group ${group} deleted`);
    }, { busy: [del] }), 'danger admin-only');

    function showOffsets(r, what, topic) {
      const t = makeTable('reset-result-table', ['broker', 'queue', 'old offset', 'new offset'], { nums: [1, 2, 3] });
      t.fill(((r && r.queues) || []).map((q) => row([q.brokerName, fmtNum(q.queueId), fmtNum(q.oldOffset), fmtNum(q.newOffset)])));
      resetResult.replaceChildren(el('h4', {}, `${what} of ${topic}`), t);
      banner(`${what} done for ${group} on ${topic}`, 'ok');
    }
    const skip = button('skip-submit', 'Skip backlog', null);
    const resetForm = makeForm({
      id: 'reset-form', prefix: 'reset',
      onSubmit: async () => {
        const topic = topicSel.value;
        const raw = $('reset-timestamp').value;
        const t = parseLocalInput(raw);
        if (!checkFields('reset', {
          topic: topic ? null : 'choose a topic',
          timestamp: !raw ? 'choose a date and time' : !t ? 'not a valid date and time'
            : t.ms > Date.now() ? 'the time is in the future: choose a time up to now' : null,
        })) return;
        const r = await api('POST', `/api/groups/${enc(group)}/reset`, { topic, timestamp: t.ms });
        showOffsets(r, `Reset to ${fmtTime(t.ms)}`, topic);
        if (live(gen)) await load();
      },
    },
    field('Topic', topicSel, 'reset', 'topic'),
    field('Reset to', el('input', { id: 'reset-timestamp', type: 'datetime-local' }), 'reset', 'timestamp'),
    el('div', { class: 'actions' }, el('button', { id: 'reset-submit', type: 'submit', class: 'primary' }, 'Reset offsets'), skip));
    skip.addEventListener('click', () => {
      clearBanner();
      run(async () => {
        const topic = topicSel.value;
        if (!checkFields('reset', { topic: topic ? null : 'choose a topic' })) return;
        const r = await api('POST', `/api/groups/${enc(group)}/skip`, { topic });
        showOffsets(r, 'Skip backlog', topic);
        if (live(gen)) await load();
      }, { form: resetForm, prefix: 'reset', busy: [skip] });
    });

    const detail = el('section', { id: 'group-detail', 'data-group': group },
      el('div', { class: 'card-head' }, el('h1', {}, 'Consumer group ', el('code', {}, group)), del),
      el('p', {}, link('#/dlq', 'Dead letters of this group', { onclick: () => { state.prefillGroup = group; } })),
      el('div', { class: 'cols' },
        el('section', { class: 'card' }, el('h3', {}, 'Total backlog'), el('p', {}, backlog),
          el('p', { class: 'muted' }, 'Refreshes every 5 s.')),
        chart.section),
      el('section', { class: 'card' }, el('h3', {}, 'Queues'), queues),
      el('div', { class: 'cols' },
        el('section', { class: 'card' }, el('h3', {}, 'Clients'), clients,
          el('p', { class: 'muted' }, 'Click a client id for its running info.')),
        el('section', { class: 'card' }, el('h3', {}, 'Subscriptions'), subs)),
      el('section', { class: 'card' }, runningTitle, running),
      el('section', { class: 'card admin-only' }, el('h3', {}, 'Reset offsets'),
        el('p', { class: 'muted' }, 'Reset moves the group back (or forward) to the first message stored at ' +
          'that time; skip moves it to the end of each queue.'),
        resetForm, resetResult));
    root.append(link('#/consumers', '← all consumer groups', { class: 'back' }), detail);

    async function loadRunning(clientId) {
      runningTitle.hidden = false;
      runningTitle.textContent = `Running info of ${clientId}`;
      running.hidden = false;
      running.textContent = 'loading…';
      try {
        const d = await api('GET', `/api/groups/${enc(group)}/clients/${enc(clientId)}`);
        if (!live(gen)) return;
        running.textContent = JSON.stringify(d, null, 2);
        running.dataset.clientId = clientId;
      } catch (err) {
        running.textContent = '';
        running.hidden = true;
        showError(err);
      }
    }

    function setTopics(topics) {
      // The group's own topics first, its retry topic last: the usual reset is of a topic.
      const retryLast = (t) => (t.startsWith('%RETRY%') ? '1' : '0') + t;
      const want = [...new Set(topics.filter(Boolean))].sort((a, b) => retryLast(a).localeCompare(retryLast(b)));
      const key = JSON.stringify(want);
      if (topicSel.dataset.topics === key) return;
      topicSel.dataset.topics = key;
      const keep = topicSel.value;
      topicSel.replaceChildren(...want.map((t) => el('option', { value: t, selected: t === keep }, t)));
      if (!want.length) topicSel.appendChild(el('option', { value: '' }, '(no topic)'));
    }

    async function load() {
      const d = await api('GET', '/api/groups/' + enc(group));
      if (!live(gen)) return;
      backlog.textContent = fmtNum(d.backlog);
      drawChart(chart.box, d.series, 'backlog');
      const qs = (d.queues || []).slice().sort((a, b) => String(a.topic).localeCompare(String(b.topic))
        || String(a.brokerName).localeCompare(String(b.brokerName)) || a.queueId - b.queueId);
      queues.fill(qs.map((q) => row([link(topicHref(q.topic), q.topic), q.brokerName, fmtNum(q.queueId),
        fmtNum(q.brokerOffset), fmtNum(q.consumerOffset), fmtNum(q.backlog), fmtTime(q.lastTimestamp)])), JSON.stringify(qs));
      const cs = d.clients || [];
      clients.fill(cs.map((c) => row([
        el('button', { type: 'button', class: 'link client-open', 'data-client-id': c.clientId,
          onclick: () => loadRunning(c.clientId) }, c.clientId),
        c.clientAddr || '', c.language || '', fmtNum(c.version)], { 'data-client-id': c.clientId })), JSON.stringify(cs));
      const ss = d.subscriptions || [];
      subs.fill(ss.map((s) => row([link(topicHref(s.topic), s.topic), el('code', {}, s.expression || '')])), JSON.stringify(ss));
      setTopics([...ss.map((s) => s.topic), ...qs.map((q) => q.topic)]);
      markLoaded(root, detail);
    }
    poll(gen, load);
    await load();
  }

  // --- Producers ---

  async function pageProducers(root, _arg, gen) {
    const table = makeTable('producer-connections', ['client id', 'address', 'language', 'version', 'broker'],
      { empty: 'no producer of this group is connected' });
    table.hidden = true;
    const form = makeForm({
      id: 'producer-form', prefix: 'producer', aliases: { group: 'group' },
      onSubmit: async () => {
        const group = $('producer-group').value.trim();
        if (!checkFields('producer', { group: group ? null : 'enter a producer group' })) return;
        const d = await api('GET', '/api/producers?' + queryString({ group }));
        if (!live(gen)) return;
        table.fill((d.connections || []).map((c) => row([c.clientId, c.clientAddr || '', c.language || '',
          fmtNum(c.version), c.broker || ''], { 'data-client-id': c.clientId })));
        table.hidden = false;
        markLoaded(table.table);
      },
    },
    field('Producer group', input('producer-group'), 'producer', 'group'),
    el('div', { class: 'actions' }, el('button', { id: 'producer-search', type: 'submit', class: 'primary' }, 'Search')));
    root.append(el('h1', {}, 'Producers'),
      el('section', { class: 'card' },
        el('p', { class: 'muted' }, 'Producers are only known by their group: enter one to list its connections.'),
        form, table));
    markLoaded(root);
  }

  // --- Messages ---

  function summaryTable(id, onOpen, opts) {
    const o = opts || {};
    const headers = ['msgId', 'tags', 'keys', 'store time', 'queue', 'offset'];
    const t = makeTable(id, o.checkbox ? [''].concat(headers) : headers,
      { nums: o.checkbox ? [5, 6] : [4, 5], empty: 'no message found' });
    t.show = (msgs) => t.fill(msgs.map((m) => {
      const cells = [el('code', {}, m.msgId), m.tags || '', fmtKeys(m.keys), fmtTime(m.storeTimestamp),
        fmtNum(m.queueId), fmtNum(m.queueOffset)];
      if (o.checkbox) cells.unshift(el('input', { type: 'checkbox', class: 'dlq-select', value: m.msgId, 'aria-label': 'select' }));
      const tr = row(cells, { 'data-msg-id': m.msgId, class: 'clickable', title: 'show this message' });
      tr.addEventListener('click', (e) => {
        if (e.target instanceof HTMLInputElement) return;
        t.table.querySelectorAll('tr.selected').forEach((x) => x.classList.remove('selected'));
        tr.classList.add('selected');
        onOpen(m);
      });
      return tr;
    }));
    return t;
  }

  /** Loads one message into `holder` as #msg-detail (tries the offset id when the id is unknown). */
  async function openMessage(holder, topic, m, gen, resendGroup) {
    holder.replaceChildren(el('p', { class: 'muted' }, 'loading the message…'));
    const byId = (id) => api('GET', '/api/messages/by-id?' + queryString({ topic, id }));
    let d;
    try {
      try {
        d = await byId(m.msgId);
      } catch (err) {
        if (err.status !== 404 || !m.offsetMsgId || m.offsetMsgId === m.msgId) throw err;
        d = await byId(m.offsetMsgId);
      }
    } catch (err) {
      if (live(gen)) holder.replaceChildren();
      throw err;
    }
    if (!live(gen)) return;
    holder.replaceChildren(messageDetail(d, resendGroup));
  }

  function messageDetail(d, resendGroup) {
    const body = d.body || {};
    const pre = el('pre', { id: 'msg-body', class: 'body' });
    const tabs = {};
    function showBody(kind) {
      const text = kind === 'json' ? body.json : kind === 'hex' ? body.hex : body.text;
      pre.textContent = text ?? '';
      pre.dataset.kind = kind;
      for (const [k, b] of Object.entries(tabs)) b.classList.toggle('active', k === kind);
    }
    for (const [kind, label] of [['text', 'Text'], ['json', 'JSON'], ['hex', 'Hex']]) {
      tabs[kind] = button('body-' + kind, label, () => showBody(kind), 'tab');
      tabs[kind].hidden = body[kind] === null || body[kind] === undefined;
    }
    const props = makeTable('msg-properties', ['key', 'value'], { empty: 'no property' });
    props.fill(Object.entries(d.properties || {}).sort((a, b) => a[0].localeCompare(b[0]))
      .map(([k, v]) => row([el('code', {}, k), String(v)])));
    const resendResult = el('span', { id: 'resend-result', class: 'muted' });
    const resend = makeForm({
      id: 'resend-form', prefix: 'resend',
      onSubmit: async () => {
        const group = $('resend-group').value.trim();
        if (!checkFields('resend', { group: nameProblem(group, 'group name') })) return;
        const r = await api('POST', '/api/messages/resend', { topic: d.topic, id: d.msgId || d.offsetMsgId, group });
        resendResult.textContent = `${r.status}, new msgId ${r.msgId}`;
        resendResult.dataset.msgId = r.msgId || '';
        banner(`resent to ${group}'s retry topic: ${r.status}, msgId ${r.msgId}`, 'ok');
      },
    },
    field('Consumer group', input('resend-group', { value: resendGroup || '' }), 'resend', 'group'),
    el('div', { class: 'actions' }, el('button', { id: 'resend-submit', type: 'submit', class: 'primary' }, 'Resend'), resendResult));

    const section = el('section', { id: 'msg-detail', class: 'card', 'data-msg-id': d.msgId },
      el('h2', {}, 'Message ', el('code', {}, d.msgId)),
      kvList([
        ['topic', d.topic], ['msgId', d.msgId], ['offsetMsgId', d.offsetMsgId], ['tags', d.tags || ''],
        ['keys', fmtKeys(d.keys)], ['queue', fmtNum(d.queueId)], ['queue offset', fmtNum(d.queueOffset)],
        ['store time', fmtTime(d.storeTimestamp)], ['born time', fmtTime(d.bornTimestamp)],
        ['store host', d.storeHost], ['born host', d.bornHost], ['reconsume times', fmtNum(d.reconsumeTimes)],
        ['body size', absent(body.size) ? '' : `${body.size} bytes`],
      ], { id: 'msg-fields' }),
      el('h3', {}, 'Properties'), props,
      el('h3', {}, 'Body'),
      el('div', { class: 'tabs' }, tabs.text, tabs.json, tabs.hex),
      pre,
      el('div', { class: 'admin-only' }, el('h3', {}, 'Resend to a consumer group'),
        el('p', { class: 'muted' }, "The copy goes to the group's retry topic, so only that group consumes it again."),
        resend));
    showBody(!tabs.json.hidden ? 'json' : !tabs.text.hidden ? 'text' : 'hex');
    markLoaded(section);
    return section;
  }

  /** The value of a datetime-local "end" input as an inclusive bound (the whole minute when no
   *  seconds were given; "now" when it still has the default value). */
  function endOf(inputEl, dflt) {
    const t = parseLocalInput(inputEl.value);
    if (!t) return null;
    let ms = t.seconds ? t.ms : t.ms + 59999;
    if (inputEl.value === dflt) ms = Math.max(ms, Date.now());
    return ms;
  }

  async function pageMessages(root, _arg, gen) {
    const now = Date.now();
    const dfltBegin = toLocalInput(now - 3600000), dfltEnd = toLocalInput(now);
    const topicDefault = state.prefillTopic;
    state.prefillTopic = '';
    const topics = el('datalist', { id: 'topic-suggestions' });
    const holder = el('div', { id: 'msg-detail-holder' });
    const results = summaryTable('msg-results', (m) => run(() => openMessage(holder, m.topic || query.topic, m, gen)));
    const prev = button('msg-prev', '← newer', null, 'small');
    const next = button('msg-next', 'older →', null, 'small');
    const pageInfo = el('span', { id: 'msg-page', class: 'muted' });
    prev.disabled = next.disabled = true;
    let query = { topic: '' }; // the last query by time, for paging

    function show(msgs, info, paging) {
      results.show(msgs);
      pageInfo.textContent = info;
      prev.disabled = !paging || query.page <= 0;
      next.disabled = !paging || !query.more;
      markLoaded(results.table);
    }
    async function byTime(page) {
      const d = await api('GET', '/api/messages?' + queryString({ topic: query.topic, begin: query.begin,
        end: query.end, page, pageSize: PAGE_SIZE }));
      if (!live(gen)) return;
      query.page = page;
      query.more = !!d.more;
      const msgs = d.messages || [];
      show(msgs, `${query.topic}: page ${page + 1}, ${msgs.length} messages${d.more ? ', more are older' : ''}`, true);
    }
    prev.addEventListener('click', () => run(() => byTime(query.page - 1), { busy: [prev, next] }));
    next.addEventListener('click', () => run(() => byTime(query.page + 1), { busy: [prev, next] }));

    const topicInput = (id) => input(id, { list: 'topic-suggestions', value: topicDefault });
    const timeForm = makeForm({
      id: 'msg-time-form', prefix: 'msg',
      onSubmit: async () => {
        const topic = $('msg-topic').value.trim();
        const b = parseLocalInput($('msg-begin').value);
        const end = endOf($('msg-end'), dfltEnd);
        if (!checkFields('msg', {
          topic: nameProblem(topic, 'topic'),
          begin: b ? null : 'choose a start time',
          end: end === null ? 'choose an end time' : b && b.ms >= end ? 'the end must be after the start' : null,
        })) return;
        query = { topic, begin: b.ms, end, page: 0, more: false };
        await byTime(0);
      },
    },
    field('Topic', topicInput('msg-topic'), 'msg', 'topic'),
    field('From', el('input', { id: 'msg-begin', type: 'datetime-local', value: dfltBegin }), 'msg', 'begin'),
    field('To', el('input', { id: 'msg-end', type: 'datetime-local', value: dfltEnd }), 'msg', 'end'),
    el('div', { class: 'actions' }, el('button', { id: 'msg-search', type: 'submit', class: 'primary' }, 'Search')));

    const keyForm = makeForm({
      id: 'msg-key-form', prefix: 'msgkey',
      onSubmit: async () => {
        const topic = $('msg-key-topic').value.trim(), key = $('msg-key').value.trim();
        if (!checkFields('msgkey', { topic: nameProblem(topic, 'topic'), key: key ? null : 'enter a key' })) return;
        const d = await api('GET', '/api/messages/by-key?' + queryString({ topic, key }));
        if (!live(gen)) return;
        query = { topic };
        const msgs = d.messages || [];
        show(msgs, `${topic}, key ${key}: ${msgs.length} messages`, false);
      },
    },
    field('Topic', topicInput('msg-key-topic'), 'msgkey', 'topic'),
    field('Key', input('msg-key'), 'msgkey', 'key'),
    el('div', { class: 'actions' }, el('button', { id: 'msg-by-key', type: 'submit', class: 'primary' }, 'Find by key')));

    const idForm = makeForm({
      id: 'msg-id-form', prefix: 'msgid',
      onSubmit: async () => {
        const topic = $('msg-id-topic').value.trim(), id = $('msg-id').value.trim();
        if (!checkFields('msgid', { topic: nameProblem(topic, 'topic'), id: id ? null : 'enter a message id' })) return;
        const d = await api('GET', '/api/messages/by-id?' + queryString({ topic, id }));
        if (!live(gen)) return;
        query = { topic };
        show([d], `${topic}: message ${id}`, false);
        holder.replaceChildren(messageDetail(d));
      },
    },
    field('Topic', topicInput('msg-id-topic'), 'msgid', 'topic'),
    field('Message id', input('msg-id', { placeholder: 'msgId or offsetMsgId' }), 'msgid', 'id'),
    el('div', { class: 'actions' }, el('button', { id: 'msg-by-id', type: 'submit', class: 'primary' }, 'Find by id')));

    root.append(el('h1', {}, 'Messages'), topics,
      el('div', { class: 'cols three' },
        el('section', { class: 'card' }, el('h3', {}, 'By time'), timeForm),
        el('section', { class: 'card' }, el('h3', {}, 'By key'), keyForm),
        el('section', { class: 'card' }, el('h3', {}, 'By id'), idForm)),
      el('section', { class: 'card' }, el('div', { class: 'toolbar' }, prev, pageInfo, next), results,
        el('p', { class: 'muted' }, 'Newest first. Click a row for the whole message.')),
      holder);
    markLoaded(root);
    api('GET', '/api/topics?kind=all').then((d) => {
      if (!live(gen)) return;
      topics.replaceChildren(...(d.topics || []).map((t) => el('option', { value: t.name })));
    }, () => { /* suggestions are optional */ });
  }

  // --- Dead letters ---

  async function pageDlq(root, _arg, gen) {
    const holder = el('div', { id: 'msg-detail-holder' });
    let current = { group: '' }; // the last search, for paging and resending
    const results = summaryTable('dlq-results',
      (m) => run(() => openMessage(holder, '%DLQ%' + current.group, m, gen, current.group)), { checkbox: true });
    const all = el('input', { type: 'checkbox', id: 'dlq-select-all', 'aria-label': 'select all' });
    results.table.querySelector('thead th').appendChild(all);
    all.addEventListener('change', () => results.table.querySelectorAll('input.dlq-select')
      .forEach((c) => { c.checked = all.checked; }));
    const exportLink = el('a', { id: 'dlq-export', class: 'button', download: '' }, 'Export as NDJSON');
    const resendResult = el('div', { id: 'dlq-resend-result' });
    const prev = button('dlq-prev', '← newer', null, 'small');
    const next = button('dlq-next', 'older →', null, 'small');
    const pageInfo = el('span', { class: 'muted' });
    prev.disabled = next.disabled = true;

    function range() {
      const b = parseLocalInput($('dlq-begin').value);
      const e = $('dlq-end').value ? endOf($('dlq-end'), null) : null;
      return { begin: b ? b.ms : null, end: e };
    }
    function updateExport() {
      const group = $('dlq-group').value.trim();
      const { begin, end } = range();
      exportLink.href = '/api/dlq/export?' + queryString({ group, begin, end });
      exportLink.classList.toggle('disabled', !group);
    }
    async function search(page) {
      // Without a start, everything (as the export does; the API's own default is the last hour).
      const d = await api('GET', '/api/dlq?' + queryString({ group: current.group, begin: current.begin ?? 0,
        end: current.end, page, pageSize: PAGE_SIZE }));
      if (!live(gen)) return;
      current.page = page;
      const msgs = d.messages || [];
      all.checked = false;
      results.show(msgs);
      pageInfo.textContent = `%DLQ%${current.group}: page ${page + 1}, ${msgs.length} messages${d.more ? ', more are older' : ''}`;
      prev.disabled = page <= 0;
      next.disabled = !d.more;
      markLoaded(results.table);
    }
    prev.addEventListener('click', () => run(() => search(current.page - 1), { busy: [prev, next] }));
    next.addEventListener('click', () => run(() => search(current.page + 1), { busy: [prev, next] }));

    const form = makeForm({
      id: 'dlq-form', prefix: 'dlq',
      onSubmit: async () => {
        const group = $('dlq-group').value.trim();
        const { begin, end } = range();
        if (!checkFields('dlq', {
          group: nameProblem(group, 'group name'),
          begin: $('dlq-begin').value && begin === null ? 'not a valid date and time' : null,
          end: begin !== null && end !== null && begin >= end ? 'the end must be after the start' : null,
        })) return;
        current = { group, begin, end, page: 0 };
        updateExport();
        resendResult.replaceChildren();
        await search(0);
      },
    },
    field('Consumer group', input('dlq-group', { value: state.prefillGroup }), 'dlq', 'group'),
    field('From', el('input', { id: 'dlq-begin', type: 'datetime-local' }), 'dlq', 'begin', 'optional: default the beginning'),
    field('To', el('input', { id: 'dlq-end', type: 'datetime-local' }), 'dlq', 'end', 'optional: default now'),
    el('div', { class: 'actions' }, el('button', { id: 'dlq-search', type: 'submit', class: 'primary' }, 'Search')));
    state.prefillGroup = '';
    form.addEventListener('input', updateExport);

    const resend = button('dlq-resend', 'Resend selected', null, 'primary admin-only');
    resend.addEventListener('click', () => {
      clearBanner();
      run(async () => {
        const ids = [...results.table.querySelectorAll('input.dlq-select:checked')].map((c) => c.value);
        const group = current.group || $('dlq-group').value.trim();
        if (!ids.length) { banner('select the messages to resend first', 'error'); return; }
        const d = await api('POST', '/api/dlq/resend', { group, ids });
        if (!live(gen)) return;
        const rs = d.results || [];
        const t = makeTable('dlq-resend-table', ['id', 'result', 'new msgId / error']);
        t.fill(rs.map((r) => row([el('code', {}, r.id), el('span', { class: r.ok ? 'pill up' : 'pill down' }, r.ok ? 'ok' : 'failed'),
          r.ok ? r.msgId || '' : r.error || ''], { 'data-id': r.id, 'data-ok': String(!!r.ok) })));
        resendResult.replaceChildren(el('h4', {}, `Resent to ${group}'s retry topic`), t);
        const good = rs.filter((r) => r.ok).length;
        banner(`resent ${good} of ${rs.length} messages`, good === rs.length ? 'ok' : 'error');
      }, { prefix: 'dlq', busy: [resend] });
    });

    root.append(el('h1', {}, 'Dead letters'),
      el('section', { class: 'card' },
        el('p', { class: 'muted' }, 'Messages a consumer group gave up on (topic %DLQ%group). ' +
          "Resending puts a copy on the group's retry topic."),
        form),
      el('section', { class: 'card' },
        el('div', { class: 'toolbar' }, resend, exportLink, prev, pageInfo, next),
        results, resendResult),
      holder);
    updateExport();
    markLoaded(root);
  }

  // --- Name servers ---

  async function pageNamesrv(root, _arg, gen) {
    const current = el('code', { id: 'namesrv-current' });
    const list = el('ul', { id: 'namesrv-list', class: 'plain' });

    function render(d) {
      const cur = (d && d.current) || '';
      const active = new Set(cur.split(';').map((s) => s.trim()).filter(Boolean));
      current.textContent = cur;
      setHeaderNamesrv(cur);
      list.replaceChildren(...((d && d.list) || []).map((addr) => el('li', { class: active.has(addr) ? 'current' : null },
        el('code', {}, addr),
        active.has(addr) ? el('span', { class: 'pill up' }, 'in use') : null,
        el('button', { type: 'button', class: 'small namesrv-use admin-only', 'data-addr': addr,
          onclick: (e) => run(() => use(addr), { busy: [e.currentTarget] }) }, 'use'))));
      markLoaded(root);
    }
    async function use(addr) {
      clearBanner();
      const d = await api('POST', '/api/namesrv', { addr });
      if (!live(gen)) return;
      render(d);
      banner(`the console now uses ${d.current || addr}`, 'ok');
    }
    const form = makeForm({
      id: 'namesrv-form', prefix: 'namesrv',
      onSubmit: async () => {
        const addr = $('namesrv-addr').value.trim();
        const ok = addr && addr.split(';').every((a) => /^[A-Za-z0-9._\-[\]:]+:\d{1,5}$/.test(a.trim()));
        if (!checkFields('namesrv', { addr: ok ? null : 'enter host:port (several separated by ;)' })) return;
        await use(addr);
        $('namesrv-addr').value = '';
      },
    },
    field('Address', input('namesrv-addr', { placeholder: 'host:port' }), 'namesrv', 'addr'),
    el('div', { class: 'actions' }, el('button', { id: 'namesrv-switch', type: 'submit', class: 'primary' }, 'Switch')));

    root.append(el('h1', {}, 'Name servers'),
      el('section', { class: 'card' }, el('p', {}, 'The console asks ', current, ' for routes and brokers.'), list),
      el('section', { class: 'card admin-only' }, el('h3', {}, 'Use another name server'), form));
    const d = await api('GET', '/api/namesrv');
    if (!live(gen)) return;
    render(d);
  }

  // ---------------------------------------------------------------------------------------------
  // Start

  async function start() {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('banner').addEventListener('click', clearBanner);
    window.addEventListener('hashchange', route);
    try {
      setSession(await api('GET', '/api/session'));
    } catch (err) {
      if (!err.handled) showLogin(err.message);
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
