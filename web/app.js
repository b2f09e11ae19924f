// recorder's web view: a page of plain JavaScript over the JSON API of
// `recorder serve` (the same answers as `recorder tree/show/timeline/
// search --json`). Every value from the database goes into the page as
// text (textContent, setAttribute), never as markup.
'use strict';

const view = document.getElementById('view');
const statusLine = document.getElementById('status');
const SVG = 'http://www.w3.org/2000/svg';
const PAGE = 100;

// --- small helpers -------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  return node;
}

function setStatus(text, isError) {
  statusLine.textContent = text || '';
  statusLine.className = isError ? 'error' : '';
}

async function api(endpoint, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== '') query.set(name, value);
  }
  const response = await fetch('/api/' + endpoint + '?' + query.toString(),
                               {credentials: 'same-origin', headers: {Accept: 'application/json'}});
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    throw new Error((body && body.error) || ('HTTP ' + response.status));
  }
  return body;
}

function hash(route, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return '#/' + route + (text ? '?' + text : '');
}

function searchLink(term, label) {
  return el('a', {href: hash('search', {q: term}), class: 'search-link'}, label || term);
}

function processLink(id, label) {
  return el('a', {href: '#/process/' + id, class: 'process-link', 'data-process-id': id},
            label || '#' + id);
}

// Epoch ms as the API's time parameter: epoch seconds with a fraction.
function timeParam(ms) { return (ms / 1000).toFixed(3); }

function utcText(ms) { return new Date(ms).toISOString(); }

// An event's detail with paths and addresses made into search links.
function detailNode(text) {
  const span = el('span');
  const words = String(text || '').split(/( +)/);
  for (const word of words) {
    const address = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(word);
    if (word.startsWith('/') && word.length > 1) span.append(searchLink(word));
    else if (address) span.append(searchLink(address[1], word));
    else span.append(word);
  }
  return span;
}

function eventRow(event, withProcess) {
  const kindClass = event.success === false ? 'kind failed' : 'kind';
  return el('tr', {class: 'event'},
            el('td', {class: 'time'}, event.time_utc),
            el('td', {class: kindClass}, event.kind || 'process'),
            withProcess ? el('td', {class: 'process'}, processLink(event.process_id),
                             ' ', el('span', {class: 'muted'}, event.exe || '?')) : null,
            el('td', {class: 'detail'}, detailNode(event.detail)));
}

function eventTable(withProcess) {
  const head = ['time', 'kind'].concat(withProcess ? ['process'] : [], ['detail']);
  const body = el('tbody');
  const table = el('table', {class: 'events'},
                   el('thead', null, el('tr', null, ...head.map((h) => el('th', null, h)))), body);
  return {table, body};
}

// --- search --------------------------------------------------------------

async function showSearch(params) {
  const term = params.get('q') || '';
  document.getElementById('search-input').value = term;
  const results = await api('search', {q: term, limit: 50});
  view.replaceChildren(el('h1', null, 'Search: ', el('span', {id: 'search-term'}, term)));
  const kinds = Object.keys(results);
  if (kinds.length === 0) {
    view.append(el('p', {id: 'no-hits'}, 'Nothing recorded matches.'));
    return;
  }
  for (const kind of kinds) {
    const group = results[kind];
    view.append(el('h2', null, kind, ' ', el('span', {class: 'muted'},
                   group.hits.length + (group.more ? '+ hits (first shown)' : ' hits'))));
    const {table, body} = eventTable(true);
    table.classList.add('hits');
    table.setAttribute('data-kind', kind);
    for (const hit of group.hits) body.append(eventRow(hit, true));
    view.append(table);
  }
}

// --- process -------------------------------------------------------------

function processLine(p, count) {
  const line = el('span', {class: 'line'});
  if (count > 1) line.append(el('span', {class: 'count'}, '×' + count + ' '));
  line.append(processLink(p.process_id), ' pid ' + p.pid + ' ',
              el('span', {class: 'muted'}, 'user ' + (p.user || (p.uid ?? '?')) + ' '),
              el('span', {class: 'exe'}, p.exe || '?'),
              ': ' + (p.cmdline || (p.placeholder ? '(no exec seen)' : '')),
              el('span', {class: 'muted'}, ' (' + (p.start_time_utc || '?') + ' .. ' +
                 (p.end_time_utc || '?') +
                 (p.exit_code === null ? '' : ', exit ' + p.exit_code) + ')'));
  if (p.inferred) {
    line.append(el('span', {class: 'muted inferred'}, ' [parent inferred from ppid and start time]'));
  }
  return line;
}

function treeNode(node, level, currentId) {
  const li = el('li', {class: 'node', 'data-process-id': node.process_id});
  const children = el('ul', {class: 'children'});
  const line = processLine(node, node.count);
  if (node.process_id === currentId) line.classList.add('current');
  if (node.children.length > 0) {
    const expanded = level === 0;
    if (!expanded) children.classList.add('collapsed');
    const toggle = el('button', {class: 'toggle', type: 'button', 'aria-expanded': String(expanded),
                                 title: 'Show or hide its children'}, expanded ? '−' : '+');
    toggle.addEventListener('click', () => {
      const open = children.classList.toggle('collapsed') === false;
      toggle.textContent = open ? '−' : '+';
      toggle.setAttribute('aria-expanded', String(open));
    });
    li.append(toggle);
  } else {
    li.append(el('span', {class: 'leaf'}));
  }
  li.append(line);
  if (node.hidden_children > 0) {
    li.append(' ', el('a', {href: '#/process/' + node.process_id, class: 'deeper'},
                      node.hidden_children + ' more below'));
  }
  for (const child of node.children) children.append(treeNode(child, level + 1, currentId));
  li.append(children);
  return li;
}

function facts(p) {
  const list = el('dl', {class: 'facts', id: 'facts'});
  const add = (name, value) => {
    if (value === null || value === undefined || value === '') return;
    list.append(el('dt', null, name), el('dd', null, value));
  };
  add('process_id', String(p.process_id));
  add('pid', String(p.pid));
  if (p.parent_process_id) add('parent', processLink(p.parent_process_id));
  else add('ppid', p.ppid === null ? '' : String(p.ppid));
  add('exe', p.exe ? searchLink(p.exe) : '');
  add('command line', p.cmdline);
  add('argv', p.argv ? JSON.stringify(p.argv) : '');
  add('cwd', p.cwd ? searchLink(p.cwd) : '');
  add('user', p.user ? searchLink(p.user) : (p.uid === null ? '' : String(p.uid)));
  add('effective user', p.euser || (p.euid === null ? '' : String(p.euid)));
  add('login user', p.login_user || (p.auid === null ? '' : String(p.auid)));
  add('session', p.session === null ? '' : String(p.session));
  add('tty', p.tty);
  add('start', p.start_time_utc);
  add('end', p.end_time_utc);
  add('exit code', p.exit_code === null ? '' : String(p.exit_code));
  add('sha256', p.sha256 ? searchLink(p.sha256) : (p.hash_note || ''));
  add('md5', p.md5);
  add('node', p.node);
  return list;
}

async function showProcess(id) {
  const [report, tree] = await Promise.all([
    api('show', {process: id, limit: PAGE}),
    api('tree', {process: id, depth: 6}),
  ]);
  const p = report.process;
  view.replaceChildren(
      el('h1', {id: 'process-title'}, '#' + p.process_id + ' ', p.exe || p.comm || '?'),
      facts(p));

  view.append(el('h2', null, 'Ancestry'));
  const ancestry = el('ol', {class: 'ancestry', id: 'ancestry'});
  for (const a of tree.ancestors) ancestry.append(el('li', null, processLine(a, 1)));
  ancestry.append(el('li', {class: 'current'}, processLine(p, 1)));
  view.append(tree.ancestors.length ? ancestry
                                    : el('p', {class: 'muted', id: 'ancestry'},
                                         'No parent recorded.'));

  view.append(el('h2', null, 'Descendants'));
  view.append(el('ul', {class: 'tree', id: 'tree'}, treeNode(tree.tree, 0, p.process_id)));

  const counts = Object.entries(report.counts).map(([k, n]) => k + ' ' + n).join(', ');
  view.append(el('h2', null, 'Activity ', el('span', {class: 'muted'}, counts)));
  const {table, body} = eventTable(false);
  table.id = 'activity';
  view.append(table);
  let page = report;
  const more = el('button', {type: 'button', class: 'more', id: 'activity-more'}, 'More');
  const fill = () => {
    for (const event of page.activity) body.append(eventRow(event, false));
    const next = page.activity_page.next_offset;
    more.hidden = next === null;
    more.textContent = 'Next ' + PAGE + ' of ' + page.activity_page.total;
  };
  more.addEventListener('click', () => run(async () => {
    page = await api('show', {process: id, offset: page.activity_page.next_offset, limit: PAGE});
    fill();
  }));
  fill();
  view.append(more);
}

// --- timeline ------------------------------------------------------------

const HIST_WIDTH = 1000, HIST_HEIGHT = 140, AXIS = 18;

function drawHistogram(histogram, filters) {
  const box = el('div', {id: 'histogram'});
  const chart = svg('svg', {viewBox: `0 0 ${HIST_WIDTH} ${HIST_HEIGHT}`,
                            preserveAspectRatio: 'none', role: 'img',
                            'aria-label': 'Events per time bucket; drag to zoom'});
  box.append(chart);
  const counts = histogram.counts;
  if (counts.length === 0) {
    box.append(el('p', {class: 'muted'}, 'No events in this range.'));
    return box;
  }
  const max = Math.max(1, ...counts);
  const barWidth = HIST_WIDTH / counts.length;
  const plot = HIST_HEIGHT - AXIS;
  counts.forEach((count, i) => {
    if (count === 0) return;
    const height = Math.max(1, (count / max) * (plot - 4));
    const bar = svg('rect', {class: 'bar', x: i * barWidth + 0.5, y: plot - height,
                             width: Math.max(1, barWidth - 1), height});
    const start = histogram.start + i * histogram.bucket_ms;
    const title = svg('title', {});
    title.textContent = utcText(start) + ': ' + count + ' events';
    bar.append(title);
    chart.append(bar);
  });
  const end = histogram.start + counts.length * histogram.bucket_ms;
  const left = svg('text', {class: 'axis', x: 2, y: HIST_HEIGHT - 4});
  left.textContent = utcText(histogram.start);
  const right = svg('text', {class: 'axis', x: HIST_WIDTH - 2, y: HIST_HEIGHT - 4,
                             'text-anchor': 'end'});
  right.textContent = utcText(end);
  chart.append(left, right);

  // Brushing: drag across the bars to zoom into that time range.
  const brush = svg('rect', {class: 'brush', id: 'brush', x: 0, y: 0, width: 0, height: plot});
  brush.setAttribute('visibility', 'hidden');
  chart.append(brush);
  const toX = (event) => {
    const rect = chart.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * HIST_WIDTH;
    return Math.min(HIST_WIDTH, Math.max(0, x));
  };
  const toTime = (x) => histogram.start + (x / HIST_WIDTH) * (end - histogram.start);
  let from = null;
  chart.addEventListener('mousedown', (event) => {
    event.preventDefault();
    from = toX(event);
    brush.setAttribute('x', from);
    brush.setAttribute('width', 0);
    brush.setAttribute('visibility', 'visible');
  });
  chart.addEventListener('mousemove', (event) => {
    if (from === null) return;
    const x = toX(event);
    brush.setAttribute('x', Math.min(from, x));
    brush.setAttribute('width', Math.abs(x - from));
  });
  const finish = (event) => {
    if (from === null) return;
    let a = Math.min(from, toX(event)), b = Math.max(from, toX(event));
    from = null;
    if (b - a < 2) {  // a click: the bucket under the pointer
      const i = Math.min(counts.length - 1, Math.floor(a / barWidth));
      a = i * barWidth;
      b = (i + 1) * barWidth;
    }
    const since = Math.floor(toTime(a)), until = Math.ceil(toTime(b)) - 1;
    location.hash = hash('timeline', Object.assign({}, filters,
        {since: timeParam(since), until: timeParam(Math.max(since, until))}));
  };
  chart.addEventListener('mouseup', finish);
  chart.addEventListener('mouseleave', (event) => { if (from !== null) finish(event); });
  return box;
}

const KINDS = ['', 'process', 'file', 'network', 'security', 'module', 'image', 'dns',
               'failed_exec', 'registry'];

async function showTimeline(params) {
  const filters = {};
  for (const name of ['since', 'until', 'kind', 'user', 'exe']) {
    if (params.get(name)) filters[name] = params.get(name);
  }
  const [histogram, first] = await Promise.all([
    api('histogram', filters),
    api('timeline', Object.assign({limit: PAGE}, filters)),
  ]);
  const kind = el('select', {id: 'kind-filter', 'aria-label': 'Kind'});
  for (const k of KINDS) {
    const option = el('option', {value: k}, k || 'every kind');
    if ((filters.kind || '') === k) option.selected = true;
    kind.append(option);
  }
  kind.addEventListener('change', () => {
    location.hash = hash('timeline', Object.assign({}, filters, {kind: kind.value}));
  });
  const range = (filters.since || filters.until)
      ? 'from ' + (filters.since ? utcText(Math.round(Number(filters.since) * 1000)) : 'the start') +
        ' to ' + (filters.until ? utcText(Math.round(Number(filters.until) * 1000)) : 'the end')
      : 'everything recorded';
  const toolbar = el('div', {class: 'toolbar'}, el('span', {id: 'range'}, range), kind);
  if (filters.since || filters.until) {
    toolbar.append(el('a', {href: hash('timeline', {kind: filters.kind}), id: 'zoom-out'},
                      'Zoom out'));
  }
  const bucket = histogram.bucket_ms >= 60000 ? histogram.bucket_ms / 60000 + ' min'
                                              : histogram.bucket_ms / 1000 + ' s';
  view.replaceChildren(
      el('h1', null, 'Timeline'), toolbar, drawHistogram(histogram, filters),
      el('p', {class: 'muted'}, 'Bars of ' + bucket + '. Drag across them to zoom in.'));
  const {table, body} = eventTable(true);
  table.id = 'events';
  view.append(table);
  let page = first;
  const more = el('button', {type: 'button', class: 'more', id: 'events-more'}, 'Next ' + PAGE);
  const fill = () => {
    for (const event of page.events) body.append(eventRow(event, true));
    more.hidden = !page.next;
  };
  more.addEventListener('click', () => run(async () => {
    page = await api('timeline', Object.assign({limit: PAGE, after: page.next}, filters));
    fill();
  }));
  fill();
  view.append(more);
}

// --- routing -------------------------------------------------------------

async function run(action) {
  setStatus('Loading…');
  try {
    await action();
    setStatus('');
  } catch (error) {
    setStatus(error.message, true);
  }
}

function route() {
  const text = location.hash.replace(/^#\/?/, '');
  const [path, query] = text.split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/');
  if (parts[0] === 'search' && params.get('q')) return run(() => showSearch(params));
  if (parts[0] === 'process' && /^\d+$/.test(parts[1] || '')) {
    return run(() => showProcess(Number(parts[1])));
  }
  return run(() => showTimeline(params));
}

document.getElementById('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const term = document.getElementById('search-input').value.trim();
  if (term) location.hash = hash('search', {q: term});
});
window.addEventListener('hashchange', route);
route();
