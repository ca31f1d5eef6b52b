// The operator console: only the public API, with the key the operator typed, kept in this tab's session storage.
'use strict';

const keyName = 'ledger.key';
const state = { recent: [], items: 0, venues: new Map(), pools: new Map(), dirty: false, feedAbort: null };

const key = () => sessionStorage.getItem(keyName) || '';
const $ = (selector) => document.querySelector(selector);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
};

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: 'Bearer ' + key() } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${body?.code ?? ''}`);
  return body;
}

function setStatus(text, bad = false) {
  const status = $('#status');
  status.textContent = text;
  status.style.color = bad ? '#f3a29c' : '';
}

// ---- cluster and assets ------------------------------------------------------------------------------------

async function loadCluster() {
  const cluster = await api('/v1/cluster');
  const rows = cluster.members.map(m => el('tr', {}, el('td', {}, m.address.replace(/^akka(\.ssl)?\.tcp:\/\//, '')),
    el('td', {}, m.roles.join(', ')), el('td', {}, m.status + (m.reachable ? '' : ' (unreachable)'))));
  $('#cluster tbody').replaceChildren(...rows);
  return cluster.members.length;
}

async function loadAudit() {
  const audit = await api('/v1/audit/supply');
  const assets = Object.entries(audit.assets);
  $('#assets tbody').replaceChildren(...assets.map(([id, a]) => el('tr', {}, el('td', {}, id), el('td', { class: 'num' }, a.supply),
    el('td', { class: 'num' }, a.sum), el('td', { class: 'num' }, a.in_flight))));
  const balanced = assets.every(([, a]) => a.sum === '0' && a.in_flight === '0');
  const verdict = $('#audit-verdict');
  verdict.textContent = balanced ? 'balanced' : 'not balanced';
  verdict.className = 'badge ' + (balanced ? 'good' : 'bad');
}

// ---- account look-up ---------------------------------------------------------------------------------------

async function lookUpAccount(id) {
  const view = $('#account-view');
  try {
    const [account, history] = await Promise.all([api(`/v1/accounts/${encodeURIComponent(id)}`),
      api(`/v1/accounts/${encodeURIComponent(id)}/transactions?limit=15`)]);
    const balances = el('table', {}, el('thead', {}, el('tr', {}, ...['asset', 'posted', 'available', 'pending out', 'pending in'].map(h => el('th', {}, h)))),
      el('tbody', {}, ...Object.entries(account.balances).map(([asset, b]) => el('tr', {}, el('td', {}, asset),
        ...[b.posted, b.available, b.pending_out, b.pending_in].map(v => el('td', { class: 'num' }, v))))));
    const items = el('table', {}, el('thead', {}, el('tr', {}, ...['id', 'type', 'status', 'legs'].map(h => el('th', {}, h)))),
      el('tbody', {}, ...history.items.map(t => el('tr', {}, el('td', {}, t.id), el('td', {}, t.type), el('td', {}, t.status + (t.code ? ` (${t.code})` : '')),
        el('td', {}, legs(t.legs))))));
    view.replaceChildren(el('p', {}, `owner ${account.owner}${account.closed ? ' · closed' : ''}`), balances, el('h2', {}, 'History'), items);
  } catch (e) {
    view.replaceChildren(el('p', { class: 'muted' }, e.message));
  }
}

const legs = (list) => list.map(l => `${l.from} → ${l.to} ${l.amount} ${l.asset}`).join('; ');

// ---- the live feed -----------------------------------------------------------------------------------------

async function follow() {
  state.feedAbort?.abort();
  const abort = new AbortController();
  state.feedAbort = abort;
  const response = await fetch('/v1/events/stream', { headers: { Authorization: 'Bearer ' + key() }, signal: abort.signal });
  if (!response.ok) throw new Error(`/v1/events/stream: ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n');
      if (data) receive(JSON.parse(data));
    }
  }
}

function receive(item) {
  const t = item.transaction;
  state.items++;
  state.recent.push(item);
  if (state.recent.length > 200) state.recent.shift();
  if (t.venue) {
    const k = `${t.venue.kind}:${t.venue.id}`;
    const seen = state.venues.get(k) ?? { kind: t.venue.kind, id: t.venue.id, count: 0 };
    seen.count++;
    state.venues.set(k, seen);
    if (t.venue.kind === 'pool' && t.type === 'swap' && t.status === 'committed' && t.legs.length === 2) swapped(t.venue.id, t.legs);
  }
  if (!state.dirty) {
    state.dirty = true;
    requestAnimationFrame(render);
  }
}

function render() {
  state.dirty = false;
  $('#feed-count').textContent = `${state.items.toLocaleString()} items`;
  $('#feed').replaceChildren(...state.recent.slice(-60).reverse().map(({ transaction: t }) =>
    el('li', {}, el('span', { class: 'type' }, t.type), el('span', { class: 'id', title: legs(t.legs) }, `${t.id} · ${t.account}`),
      el('span', { class: t.status }, t.status))));
  $('#venues tbody').replaceChildren(...[...state.venues.values()].map(v => {
    const link = el('a', { href: '#' }, v.id);
    link.onclick = (e) => { e.preventDefault(); lookUp(v.kind === 'pool' ? 'pools' : v.kind + 's', v.id); };
    return el('tr', {}, el('td', {}, v.kind), el('td', {}, link), el('td', { class: 'num' }, v.count));
  }));
  renderPools();
}

// ---- pools: reserves and a price chart of recent swaps -----------------------------------------------------

function swapped(id, [into, out]) {
  const pool = state.pools.get(id) ?? { id, prices: [], view: null, loading: false };
  state.pools.set(id, pool);
  pool.prices.push({ in: into, out });
  if (pool.prices.length > 120) pool.prices.shift();
  refreshPool(pool);
}

async function refreshPool(pool) {
  if (pool.loading) return;
  pool.loading = true;
  try {
    pool.view = await api(`/v1/pools/${encodeURIComponent(pool.id)}`);
  } finally {
    pool.loading = false;
  }
  state.dirty || requestAnimationFrame(render);
}

/** The price of asset A in asset B after each swap (display only: floating point is fine on a chart). */
function prices(pool) {
  if (!pool.view) return [];
  return pool.prices.map(({ in: i, out: o }) => i.asset === pool.view.asset_a ? Number(o.amount) / Number(i.amount) : Number(i.amount) / Number(o.amount));
}

function chart(values) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 300 56');
  svg.setAttribute('preserveAspectRatio', 'none');
  if (values.length < 2) return svg;
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const span = hi - lo || Math.abs(hi) || 1;
  const points = values.map((v, i) => `${(i / (values.length - 1) * 296 + 2).toFixed(1)},${(52 - (v - lo) / span * 48).toFixed(1)}`);
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', points.join(' '));
  svg.append(line);
  return svg;
}

function renderPools() {
  $('#pools').replaceChildren(...[...state.pools.values()].map(pool => {
    const v = pool.view;
    const values = prices(pool);
    const last = values.at(-1);
    return el('div', { class: 'pool', 'data-pool': pool.id },
      el('div', {}, el('strong', {}, pool.id), el('br'), v ? `${v.reserve_a} ${v.asset_a}` : '', el('br'), v ? `${v.reserve_b} ${v.asset_b}` : '',
        el('br'), el('span', { class: 'muted' }, last === undefined ? '' : `price ${last.toPrecision(6)} (${values.length} swaps)`)),
      chart(values));
  }));
}

// ---- any venue by kind and id ------------------------------------------------------------------------------

async function lookUp(kind, id) {
  $('#lookup-kind').value = kind;
  $('#lookup-id').value = id;
  const view = $('#lookup-view');
  try {
    const found = await api(`/v1/${kind}/${encodeURIComponent(id)}`);
    view.replaceChildren(el('table', {}, el('tbody', {}, ...Object.entries(found).map(([k, v]) =>
      el('tr', {}, el('td', { class: 'muted' }, k), el('td', { class: 'num' }, typeof v === 'object' ? JSON.stringify(v) : v))))));
  } catch (e) {
    view.replaceChildren(el('p', { class: 'muted' }, e.message));
  }
}

// ---- start -------------------------------------------------------------------------------------------------

async function connect() {
  try {
    const members = await loadCluster();
    await loadAudit();
    setStatus(`connected · ${members} member${members === 1 ? '' : 's'}`);
  } catch (e) {
    setStatus(e.message, true);
    return;
  }
  follow().catch(e => { if (e.name !== 'AbortError') setStatus('feed: ' + e.message, true); });
}

$('#key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(keyName, $('#key').value.trim());
  $('#key').value = '';
  connect();
});
$('#account-form').addEventListener('submit', (e) => { e.preventDefault(); lookUpAccount($('#account').value.trim()); });
$('#lookup-form').addEventListener('submit', (e) => { e.preventDefault(); lookUp($('#lookup-kind').value, $('#lookup-id').value.trim()); });
// The audit reads every entity: run on connect and when asked, never on a timer.
$('#audit-run').addEventListener('click', () => loadAudit().catch(e => setStatus(e.message, true)));
setInterval(() => { if (key()) loadCluster().catch(() => {}); }, 5000);
if (key()) connect();
