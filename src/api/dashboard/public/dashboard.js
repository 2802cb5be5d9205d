// The dashboard's script (a plain ES module, no framework): polls the controller's public
// API and draws tables and SVG charts. Sources: /v1/menu (classes, the ledger's unit),
// /v1/prices (price, demand, target per class; ?history=true once for the stored changes),
// /v1/reservation-stats (aggregates), /v1/topology (per-link capacity use), /v1/revenue,
// /readyz. The poll interval is 2 s; `?poll=MS` in the page's address changes it.

const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const HISTORY_WINDOW_MS = 15 * 60 * 1000;
const pollMs = Math.max(100, Number(new URLSearchParams(location.search).get('poll')) || 2000);

/** @type {{ classes: { id: string, name: string }[], ledger: { kind: string, baseUnitsPerCurrencyUnit: number } } | undefined} */
let menu;
/** classId -> [{ at, price }], oldest first */
const series = new Map();
const colourOf = new Map();

async function get(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok && res.status !== 503) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function el(tag, attrs = {}, ...children) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function swatch(classId) {
  return el('span', { class: 'swatch', style: `background:${colourOf.get(classId)}` });
}

/** bits/s as Mbit/s (or kbit/s below 1 Mbit/s) */
function rate(bps) {
  if (!Number.isFinite(bps)) return '–';
  if (Math.abs(bps) >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (Math.abs(bps) >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  return `${(bps / 1e3).toFixed(0)} kbit/s`;
}

function price(p) {
  return p.toFixed(6);
}

/** base units (decimal string) as currency units with every decimal the unit has */
function currency(amount, perUnit) {
  const units = BigInt(amount);
  const per = BigInt(perUnit);
  const digits = String(perUnit).length - 1;
  const whole = units / per;
  const frac = (units < 0n ? -units : units) % per;
  return digits > 0 && /^10*$/.test(String(perUnit)) ? `${whole}.${frac.toString().padStart(digits, '0')}` : (Number(units) / perUnit).toFixed(6);
}

function replaceRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- prices and load -------------------------------------------------------------------------

function addPoint(classId, at, value) {
  let s = series.get(classId);
  if (!s) series.set(classId, (s = []));
  const last = s[s.length - 1];
  if (last && last.at >= at) return;
  s.push({ at, price: value });
  while (s.length > 2 && s[1].at < at - HISTORY_WINDOW_MS) s.shift();
}

function renderClassTable(prices) {
  const tbody = document.querySelector('#class-table tbody');
  replaceRows(
    tbody,
    prices.map((p) =>
      el(
        'tr',
        { 'data-class': p.classId },
        el('td', { title: p.name }, swatch(p.classId), p.classId),
        el('td', { class: 'num', 'data-price': p.price }, price(p.price)),
        el('td', { class: 'num' }, `${p.basePrice.toFixed(2)} … ${p.maxPrice.toFixed(2)}`),
        el('td', { class: 'num', 'data-demand': p.demandBps }, rate(p.demandBps)),
        el('td', { class: 'num', title: `class share ${rate(p.cmaxBps)}` }, rate(p.targetBps)),
      ),
    ),
  );
}

function axisLabel(x, y, text, rotate) {
  return el('svg:text', { x, y, 'text-anchor': 'middle', transform: rotate ? `rotate(-90 ${x} ${y})` : undefined }, text);
}

function renderPriceChart() {
  const svg = document.getElementById('price-chart');
  const W = 760;
  const H = 300;
  const m = { l: 70, r: 40, t: 12, b: 44 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const all = [...series.values()].flat();
  if (all.length === 0) return;
  const now = Date.now();
  const t0 = Math.min(...all.map((p) => p.at), now - 60_000);
  const t1 = now;
  const pMax = Math.max(...all.map((p) => p.price)) * 1.1 || 1;
  const x = (t) => m.l + ((t - t0) / (t1 - t0 || 1)) * (W - m.l - m.r);
  const y = (p) => H - m.b - (p / pMax) * (H - m.t - m.b);
  const nodes = [];
  for (let i = 0; i <= 4; i++) {
    const v = (pMax * i) / 4;
    nodes.push(el('svg:line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }));
    nodes.push(el('svg:text', { x: m.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, v.toFixed(3)));
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    nodes.push(el('svg:text', { x: x(t), y: H - m.b + 16, 'text-anchor': 'middle' }, new Date(t).toLocaleTimeString([], { hour12: false })));
  }
  nodes.push(el('svg:line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, stroke: '#8a94a3' }));
  nodes.push(el('svg:line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, stroke: '#8a94a3' }));
  nodes.push(axisLabel((m.l + W - m.r) / 2, H - 6, 'time (local clock)'));
  nodes.push(axisLabel(16, (m.t + H - m.b) / 2, 'price (units per Mbit/s per s)', true));
  // step lines: a price holds until it changes; each class dashed differently so equal prices stay visible
  let k = 0;
  for (const [classId, pts] of series) {
    const d = [];
    pts.forEach((p, i) => {
      d.push(`${i === 0 ? 'M' : 'H'}${x(Math.max(p.at, t0)).toFixed(1)}`);
      if (i === 0) d[0] += ` ${y(p.price).toFixed(1)}`;
      else d.push(`V${y(p.price).toFixed(1)}`);
    });
    d.push(`H${x(now).toFixed(1)}`);
    const dash = ['', '8 4', '2 3', '10 3 2 3'][k % 4];
    nodes.push(el('svg:path', { d: d.join(' '), fill: 'none', stroke: colourOf.get(classId), 'stroke-width': 2.5, 'stroke-dasharray': dash || undefined, 'data-series': classId }));
    const last = pts[pts.length - 1];
    nodes.push(el('svg:circle', { cx: x(now), cy: y(last.price), r: 4 + k, fill: 'none', stroke: colourOf.get(classId), 'stroke-width': 2 }));
    k++;
  }
  svg.replaceChildren(...nodes);
  const legend = document.getElementById('price-legend');
  legend.replaceChildren(...[...series.keys()].map((c) => el('span', {}, swatch(c), c)));
}

function renderLoadChart(prices) {
  const svg = document.getElementById('load-chart');
  const W = 640;
  const rowH = 44;
  const m = { l: 90, r: 230, t: 8, b: 40 };
  const H = m.t + m.b + rowH * prices.length;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const max = Math.max(1, ...prices.map((p) => Math.max(p.cmaxBps, p.demandBps, p.targetBps)));
  const x = (v) => m.l + (v / max) * (W - m.l - m.r);
  const nodes = [];
  prices.forEach((p, i) => {
    const top = m.t + i * rowH + 8;
    const c = colourOf.get(p.classId);
    nodes.push(el('svg:text', { x: m.l - 8, y: top + 18, 'text-anchor': 'end' }, p.classId));
    nodes.push(el('svg:rect', { x: m.l, y: top, width: Math.max(0, x(p.cmaxBps) - m.l), height: 26, fill: '#eef1f5', stroke: '#c5ccd6' }));
    nodes.push(el('svg:rect', { x: m.l, y: top + 4, width: Math.max(0, x(p.demandBps) - m.l), height: 18, fill: c, 'data-load': p.classId }));
    if (p.targetBps > 0) nodes.push(el('svg:line', { x1: x(p.targetBps), x2: x(p.targetBps), y1: top - 4, y2: top + 30, stroke: '#1d2430', 'stroke-width': 2.5 }));
    nodes.push(el('svg:text', { x: Math.max(x(p.cmaxBps), x(p.demandBps)) + 8, y: top + 18 }, `${rate(p.demandBps)} / target ${rate(p.targetBps)}`));
  });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    nodes.push(el('svg:text', { x: x(v), y: H - m.b + 16, 'text-anchor': 'middle' }, (v / 1e6).toFixed(1)));
  }
  nodes.push(axisLabel((m.l + W - m.r) / 2, H - 6, 'rate (Mbit/s): bar = demand, box = class share, tick = target'));
  svg.replaceChildren(...nodes);
}

// ---- reservations, topology, revenue -------------------------------------------------------

function renderReservations(stats) {
  replaceRows(
    document.querySelector('#state-table tbody'),
    Object.entries(stats.states).map(([state, n]) => el('tr', { 'data-state': state }, el('td', {}, state), el('td', { class: 'num' }, n))),
  );
  replaceRows(
    document.querySelector('#reserved-table tbody'),
    stats.classes.map((c) =>
      el('tr', { 'data-class': c.classId }, el('td', {}, swatch(c.classId), c.classId), el('td', { class: 'num' }, c.active), el('td', { class: 'num' }, rate(c.reservedBps))),
    ),
  );
}

function renderTopology(topo) {
  const usage = new Map(topo.resources.map((r) => [r.resource, r]));
  const reservedOn = (res) => (res ? res.classes.reduce((s, c) => s + c.reservedBps, 0) : 0);
  const links = topo.links.map((l) => {
    const resource = `${l.src.dpid}:${l.src.port}`;
    const res = usage.get(resource);
    const capacity = res?.capacityBps ?? l.capacityBps;
    const reserved = reservedOn(res);
    return { ...l, resource, res, capacity, reserved, free: Math.max(0, capacity - reserved) };
  });
  replaceRows(
    document.querySelector('#link-table tbody'),
    links.map((l) =>
      el(
        'tr',
        { 'data-link': l.resource },
        el('td', {}, `${short(l.src.dpid)}:${l.src.port} → ${short(l.dst.dpid)}:${l.dst.port}`),
        el('td', { class: 'num' }, rate(l.capacity)),
        el('td', { class: 'num' }, rate(l.reserved)),
        el('td', { class: 'num' }, rate(l.free)),
        el('td', { class: 'wrap' }, (l.res?.classes ?? []).map((c) => `${c.classId} ${rate(c.reservedBps)} / ${rate(c.cmaxBps)}`).join(' · ')),
      ),
    ),
  );
  // switches on a circle; each direction of a link is labelled near its source end
  const svg = document.getElementById('topology-chart');
  const W = 640;
  const H = 340;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const sw = topo.switches.map((s) => s.dpid);
  const hostsAt = new Map();
  for (const h of topo.hosts) hostsAt.set(h.dpid, (hostsAt.get(h.dpid) ?? 0) + 1);
  const pos = new Map();
  const rx = W / 2 - 90;
  const ry = H / 2 - 60;
  sw.forEach((d, i) => {
    const a = sw.length === 1 ? Math.PI / 2 : Math.PI + (2 * Math.PI * i) / sw.length;
    pos.set(d, { x: W / 2 + rx * Math.cos(a), y: H / 2 + ry * Math.sin(a) });
  });
  const nodes = [];
  for (const l of links) {
    const a = pos.get(l.src.dpid);
    const b = pos.get(l.dst.dpid);
    if (!a || !b) continue;
    const used = l.capacity > 0 ? l.reserved / l.capacity : 0;
    if (l.src.dpid < l.dst.dpid) nodes.push(el('svg:line', { x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: '#8a94a3', 'stroke-width': 3 }));
    // each direction labelled a third of the way from its source, on its own side of the line
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy) || 1;
    const nx = -dy / len;
    const ny = dx / len;
    const lx = a.x + dx * 0.3 + nx * 12;
    const ly = a.y + dy * 0.3 + ny * 12 + 4;
    const anchor = nx > 0.3 ? 'start' : nx < -0.3 ? 'end' : 'middle';
    nodes.push(el('svg:text', { x: lx, y: ly, 'text-anchor': anchor, fill: used > 0.8 ? '#b42318' : '#1d2430' }, `${rate(l.reserved)} / ${rate(l.capacity)}`));
  }
  for (const d of sw) {
    const p = pos.get(d);
    nodes.push(el('svg:circle', { cx: p.x, cy: p.y, r: 22, fill: '#fff', stroke: '#1d2430', 'stroke-width': 2 }));
    nodes.push(el('svg:text', { x: p.x, y: p.y + 4, 'text-anchor': 'middle' }, `s${short(d)}`));
    const n = hostsAt.get(d) ?? 0;
    if (n) nodes.push(el('svg:text', { x: p.x, y: p.y + 40, 'text-anchor': 'middle', class: 'muted' }, `${n} host${n === 1 ? '' : 's'}`));
  }
  if (sw.length === 0) nodes.push(el('svg:text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no switches known'));
  svg.replaceChildren(...nodes);
}

function short(dpid) {
  return dpid.replace(/^0+(?=.)/, '');
}

function renderRevenue(revenue) {
  const per = menu.ledger.baseUnitsPerCurrencyUnit;
  const unit = menu.ledger.kind === 'iota' ? 'IOTA' : 'units of the local ledger';
  document.getElementById('revenue-unit').textContent = `Paid for reservations, in ${unit} (1 = ${per.toLocaleString('en')} base units).`;
  replaceRows(
    document.querySelector('#revenue-table tbody'),
    revenue.classes.map((c) =>
      el(
        'tr',
        { 'data-class': c.classId },
        el('td', {}, swatch(c.classId), c.classId),
        el('td', { class: 'num' }, c.payments),
        el('td', { class: 'num' }, currency(c.amount, per)),
        el('td', { class: 'num' }, c.amount),
      ),
    ),
  );
  document.querySelector('#revenue-table tfoot').replaceChildren(
    el('tr', {}, el('td', {}, 'total'), el('td', {}, ''), el('td', { class: 'num', 'data-total': revenue.total }, currency(revenue.total, per)), el('td', { class: 'num' }, revenue.total)),
  );
}

function renderReadiness(ready) {
  const badge = document.getElementById('readiness');
  const failed = ready.checks.filter((c) => !c.ok);
  badge.textContent = ready.status === 'ready' ? 'ready' : `not ready: ${failed.map((c) => c.name).join(', ')}`;
  badge.className = `badge ${ready.status === 'ready' ? 'ok' : 'bad'}`;
  badge.title = ready.checks.map((c) => `${c.name}: ${c.ok ? 'ok' : 'failed'}${c.detail ? ` (${c.detail})` : ''}`).join('\n');
}

// ---- the loop ----------------------------------------------------------------------------------

async function poll() {
  const [prices, stats, topo, revenue, ready] = await Promise.all([
    get('/v1/prices'),
    get('/v1/reservation-stats'),
    get('/v1/topology'),
    get('/v1/revenue'),
    get('/readyz').catch(() => ({ status: 'not_ready', checks: [] })),
  ]);
  for (const p of prices.prices) addPoint(p.classId, prices.at, p.price);
  renderClassTable(prices.prices);
  renderPriceChart();
  renderLoadChart(prices.prices);
  renderReservations(stats);
  renderTopology(topo);
  renderRevenue(revenue);
  renderReadiness(ready);
  document.getElementById('updated').textContent = `updated ${new Date(prices.at).toLocaleTimeString([], { hour12: false })}`;
  document.body.dataset.polls = String(Number(document.body.dataset.polls ?? 0) + 1);
}

async function loop() {
  try {
    await poll();
    document.getElementById('error').textContent = '';
  } catch (err) {
    document.getElementById('error').textContent = `could not reach the controller: ${err.message}`;
  }
  setTimeout(loop, pollMs);
}

async function start() {
  menu = await get('/v1/menu');
  menu.classes.forEach((c, i) => colourOf.set(c.id, COLOURS[i % COLOURS.length]));
  const first = await get(`/v1/prices?history=true&limit=5000&since=${Date.now() - HISTORY_WINDOW_MS}`);
  for (const h of first.history ?? []) addPoint(h.classId, h.at, h.price);
  await loop();
}

start().catch((err) => {
  document.getElementById('error').textContent = `could not start: ${err.message}`;
});
