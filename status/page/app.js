// wsrouter status page: reads /status.json every interval while the tab is
// visible and draws the charts as plain SVG. No dependencies.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = ['#2f6fde', '#e4572e', '#17a589', '#8e5ec7', '#d99a0e', '#5b6474', '#d63384', '#0c8fb5'];
  const W = 600, H = 180, PAD = { l: 52, r: 10, t: 10, b: 22 };
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let inFlight = false;

  function num(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    return v.toLocaleString('en-US', { maximumFractionDigits: digits || 0, minimumFractionDigits: 0 });
  }

  function duration(s) {
    s = Math.max(0, Math.round(s));
    const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d) return d + 'd ' + h + 'h';
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + (s % 60) + 's';
    return s + 's';
  }

  function el(tag, attrs, text) {
    const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  // chart draws series ([{name, values}], values aligned with t, null for
  // no value) over the window ending at the newest sample.
  function chart(name, t, series, windowS, digits) {
    const svg = $('chart-' + name), legend = $('legend-' + name);
    svg.replaceChildren();
    legend.replaceChildren();
    // A process younger than the window gets the time it has, at least a
    // minute, so its first samples are not squeezed against the right edge.
    const end = t.length ? t[t.length - 1] : Date.now();
    const span = Math.min(windowS * 1000, Math.max(60000, end - (t.length ? t[0] : end)));
    const start = end - span;
    let top = 0;
    for (const s of series) for (const v of s.values) if (v !== null && v > top) top = v;
    top = niceMax(top);
    const x = (ms) => PAD.l + (ms - start) / (end - start) * (W - PAD.l - PAD.r);
    const y = (v) => H - PAD.b - v / top * (H - PAD.t - PAD.b);
    for (const f of [0, 0.5, 1]) {
      svg.append(el('svg:line', { class: 'grid', x1: PAD.l, x2: W - PAD.r, y1: y(top * f), y2: y(top * f) }));
      svg.append(el('svg:text', { class: 'axis', x: PAD.l - 6, y: y(top * f) + 4, 'text-anchor': 'end' }, num(top * f, top < 10 ? 1 : 0)));
    }
    for (let k = 3; k >= 0; k--) {
      const ago = span * k / 3;
      const label = k === 0 ? 'now' : span >= 180000 ? '-' + Math.round(ago / 60000) + 'm' : '-' + Math.round(ago / 1000) + 's';
      svg.append(el('svg:text', { class: 'axis', x: x(end - ago), y: H - 6, 'text-anchor': k === 3 ? 'start' : k === 0 ? 'end' : 'middle' }, label));
    }
    let points = 0;
    series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      let d = '', pen = false;
      s.values.forEach((v, j) => {
        if (v === null || t[j] < start) { pen = false; return; }
        d += (pen ? 'L' : 'M') + x(t[j]).toFixed(1) + ' ' + y(v).toFixed(1);
        pen = true;
        points++;
      });
      if (d) svg.append(el('svg:path', { class: 'line', d: d, stroke: color, 'data-series': s.name }));
      const last = [...s.values].reverse().find((v) => v !== null);
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = color; // CSSOM, which the page's CSP allows
      const item = el('span');
      item.append(swatch, s.name + ' ', el('b', {}, num(last === undefined ? null : last, digits)));
      legend.append(item);
    });
    if (!series.length || points === 0) {
      svg.append(el('svg:text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, series.length ? 'waiting for samples…' : 'nothing yet'));
    }
    svg.dataset.points = String(points);
  }

  function columns(obj) {
    return Object.keys(obj).sort().map((k) => ({ name: k, values: obj[k] }));
  }

  function rows(tableId, list, render, emptyText, cols) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren();
    if (!list.length) {
      const tr = el('tr');
      tr.append(el('td', { class: 'none', colspan: cols }, emptyText));
      body.append(tr);
      return;
    }
    for (const item of list) {
      const tr = el('tr');
      for (const [text, cls] of render(item)) tr.append(el('td', cls ? { class: cls } : {}, text));
      body.append(tr);
    }
  }

  function render(s) {
    const c = s.current;
    document.title = (s.ready.ok ? '' : '✗ ') + 'wsrouter ' + s.node.id;
    const ready = $('ready');
    ready.textContent = s.ready.ok ? 'ready' : 'not ready';
    ready.className = 'badge ' + (s.ready.ok ? 'ok' : 'bad');
    $('ready-error').textContent = s.ready.error || '';
    $('node-id').textContent = s.node.id;
    $('version').textContent = s.node.version;
    $('uptime').textContent = duration(s.node.uptime_s);
    $('updated').textContent = c.sampled_at ? new Date(c.sampled_at).toLocaleTimeString('en-GB') : '–';

    $('connections').textContent = num(c.connections);
    $('subscriptions').textContent = num(c.subscriptions);
    $('deliveries-rate').textContent = num(c.deliveries_per_s, 1);
    $('deliveries-total').textContent = num(c.deliveries_total);
    $('drops-rate').textContent = num(c.dropped_per_s, 1);
    $('drops-total').textContent = num(c.dropped_all_total);
    const up = s.redis.filter((r) => r.up).length;
    const rs = $('redis-summary');
    rs.textContent = s.redis.length ? up + ' / ' + s.redis.length + ' up' : '–';
    rs.className = 'value ' + (up === s.redis.length && s.redis.length ? 'up' : 'down');

    const t = s.series.t, win = s.window_s;
    chart('connections', t, [{ name: 'connections', values: s.series.connections }], win);
    chart('subscriptions', t, columns(s.series.subscriptions), win);
    chart('deliveries', t, [{ name: 'deliveries/s', values: s.series.deliveries_per_s }], win, 1);
    chart('drops', t, columns(s.series.dropped_per_s), win, 2);

    $('callbacks-window').textContent = 'last ' + duration(s.callbacks_window_s);
    rows('callbacks', s.callbacks, (r) => [
      [r.service || '—'], [r.callback], [num(r.calls), 'n'],
      [num(r.errors), r.errors ? 'n down' : 'n'], [num(r.unavailable), r.unavailable ? 'n down' : 'n'],
      [num(r.p50_ms, 1), 'n'], [num(r.p99_ms, 1), r.p99_ms >= 1000 ? 'n slow' : 'n'],
    ], 'no callbacks in the window', 7);
    rows('redis', s.redis, (r) => [[r.shard], [r.up ? 'up' : 'down', r.up ? 'up' : 'down']], 'no Redis state yet', 2);
    if (!s.nodes.enabled) {
      rows('nodes', [], null, 'The HTTP API is off (api.listen): no node records to list.', 5);
    } else {
      rows('nodes', s.nodes.list, (n) => [[n.id + (n.id === s.node.id ? ' (this one)' : '')], [num(n.connections), 'n'],
        [num(n.subscriptions), 'n'], [duration(n.uptime_s), 'n'], [n.version]],
      s.nodes.error ? 'node records unreadable: ' + s.nodes.error : 'no live node records', 5);
    }
    rows('services', s.services, (svc) => [[svc.name], [num(c.subscriptions_by_service[svc.name] || 0), 'n'],
      [svc.require_authentication ? 'required' : 'none'],
      [Object.keys(svc.callbacks).sort().map((k) => k + ' → ' + svc.callbacks[k]).join('\n') || '(none)', 'cbs']],
    'no services configured', 4);
    rows('reloads', s.reloads, (r) => [[new Date(r.at).toLocaleString('en-GB')], [r.trigger],
      [r.result, r.result === 'ok' ? 'up' : 'down'], [r.detail]], 'no reloads since the start', 4);
    document.body.dataset.sampledAt = c.sampled_at || '';
    document.body.dataset.state = 'ok';
  }

  async function refresh() {
    clearTimeout(timer);
    timer = null;
    if (document.hidden || inFlight) return;
    inFlight = true;
    let wait = 5000;
    try {
      const res = await fetch('/status.json', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const s = await res.json();
      wait = Math.max(2000, s.interval_s * 1000);
      render(s);
      $('problem').hidden = true;
    } catch (err) {
      $('problem').textContent = 'Cannot read /status.json (' + err.message + '); retrying.';
      $('problem').hidden = false;
      document.body.dataset.state = 'error';
    } finally {
      inFlight = false;
    }
    if (!document.hidden) timer = setTimeout(refresh, wait);
  }

  // Nothing is fetched while the tab is hidden.
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  refresh();
})();
