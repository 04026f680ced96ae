'use strict';
// Tests of the Node client against the real chiphost binary ($CHIPHOST, or
// built from this repository into a temp dir) and real plugins.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { Client, ChiphostError, SessionFailedError, ConnectionClosedError, Codes } = require('..');

const REPO = path.resolve(__dirname, '..', '..', '..');
const PLUGINS = path.join(REPO, 'testdata', 'plugins');
const HOSTILE = path.join(PLUGINS, 'hostile', 'hostile.wasm');

let tmp;
let binary;
let root;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chiphost-nodetest-'));
  binary = process.env.CHIPHOST;
  if (!binary) {
    binary = path.join(tmp, 'chiphost');
    execFileSync('go', ['build', '-o', binary, './cmd/chiphost'], { cwd: REPO, stdio: 'inherit' });
  }
  // A plugin root without js_string_parser, whose 12 MB take seconds to load.
  root = path.join(tmp, 'plugins');
  for (const p of ['parsers/string_parser', 'bytesources/file_source']) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.symlinkSync(path.join(PLUGINS, p), path.join(root, p));
  }
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function lines(n, name) {
  const ls = Array.from({ length: n }, (_, i) => `line ${i}: ${'x'.repeat(i % 13)}`);
  const file = path.join(tmp, name || `in-${n}-${Math.random().toString(36).slice(2)}.log`);
  fs.writeFileSync(file, ls.join('\n') + '\n');
  return { ls, file };
}

async function start(t, options = {}) {
  const c = await Client.start({ binary, pluginDirs: [root], noDefaultPlugins: true, stderr: 'ignore', ...options });
  t.after(() => c.close());
  return c;
}

test('initialize, list and describe plugins', async (t) => {
  const c = await start(t);
  assert.equal(c.serverInfo.serverInfo.name, 'chiphost');
  const plugins = await c.listPlugins();
  assert.deepEqual(plugins.map((p) => p.name).sort(), ['file_source', 'string_parser']);
  assert.ok(plugins.every((p) => p.state === 'valid'));
  assert.equal((await c.reloadPlugins()).length, 2);
  const d = await c.describePlugin('string_parser');
  assert.equal(d.kind, 'parser');
  assert.equal(d.title, plugins.find((p) => p.name === 'string_parser').title);
  assert.equal(d.description, plugins.find((p) => p.name === 'string_parser').description);
  assert.ok(d.configItems.some((it) => it.id === 'prefix'));
  assert.equal(d.configSchema.type, 'object');
  assert.equal(await c.shutdown(), 0);
});

test('open a plugin session and grab rows', async (t) => {
  const { ls, file } = lines(300);
  const c = await start(t);
  const s = await c.openSession({ parser: 'string_parser', source: file, config: { prefix: 'P:' } });
  assert.deepEqual(s.columns.map((col) => col.caption), ['Length', 'Message']);
  const final = await s.wait({ timeout: 10000 });
  assert.equal(final.state, 'done');
  assert.equal(final.rows, 300);
  const rows = await s.grab(0, 300);
  assert.deepEqual(rows.map((r) => r.index), ls.map((_, i) => i));
  rows.forEach((r, i) => {
    assert.equal(r.columns[1], `P: ${ls[i]}`);
  });
  assert.deepEqual(await c.grab(s, 300, 5), []);
  await s.close();
  assert.equal(c.sessionUpdate(s).state, 'closed');
  await assert.rejects(c.grab(s, 0, 1), (e) => e instanceof ChiphostError && e.code === Codes.NotFound);
});

test('a producer session: no source or parser, rows like a parser\'s', async (t) => {
  const { ls, file } = lines(200);
  const proot = path.join(tmp, `producers-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(path.join(proot, 'producers'), { recursive: true });
  fs.symlinkSync(path.join(PLUGINS, 'producers', 'file_producer'), path.join(proot, 'producers', 'file_producer'));
  const c = await start(t, { pluginDirs: [proot] });
  assert.ok(c.serverInfo.capabilities.pluginKinds.includes('producer'));
  assert.deepEqual((await c.listPlugins()).map((p) => [p.name, p.kind]), [['file_producer', 'producer']]);
  const s = await c.openProducer({ producer: 'file_producer', config: { 'input-path': [file], 'lines-per-call': 9 } });
  assert.deepEqual(s.columns.map((col) => col.caption), ['Line', 'Text']);
  const final = await s.wait({ timeout: 10000 });
  assert.deepEqual([final.state, final.rows, final.bytes], ['done', 200, 0]);
  const rows = [];
  for await (const r of c.stream(s, { window: 30 })) rows.push(r.columns);
  assert.deepEqual(rows, ls.map((l, i) => [String(i + 1), l]));
  await assert.rejects(c.openProducer({ producer: 'file_producer', config: { 'input-path': [file], 'lines-per-call': 0 } }),
    (e) => e instanceof ChiphostError && e.code === Codes.InvalidParams);
  await assert.rejects(c.openProducer({}), TypeError);
});

test('stream with for await and flow control', async (t) => {
  const n = 20000;
  const window = 50;
  const { ls, file } = lines(n);
  const c = await start(t);
  let received = 0;
  c.on('notification', (m, p) => {
    if (m === 'sessions/items') received += p.items.length;
  });
  const s = await c.openSession({ source: file });
  await s.wait();
  const st = c.stream(s, { window });
  const got = [];
  let ahead = 0;
  for await (const row of st) {
    got.push(row.line);
    ahead = Math.max(ahead, received - got.length);
    if (got.length % 5000 === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(got, ls);
  assert.ok(ahead <= window, `${ahead} rows ahead with a window of ${window}`);
  assert.deepEqual(await st.done(), { session: s.id, rows: n, next: n, state: 'done' });
});

test('config error carries code, kind, plugin and field errors', async (t) => {
  const { file } = lines(2);
  const c = await start(t);
  await assert.rejects(c.openSession({ parser: 'string_parser', source: file, config: { prefix: 5 } }), (e) => {
    assert.ok(e instanceof ChiphostError);
    assert.equal(e.code, Codes.InvalidParams);
    assert.equal(e.kind, 'config');
    assert.equal(e.plugin, 'string_parser');
    assert.ok(e.errors.some((fe) => fe.field === 'prefix'));
    return true;
  });
  await assert.rejects(c.openSession({ parser: 'nope', source: file }), (e) => e.code === Codes.NotFound && e.kind === 'not-found');
  await assert.rejects(c.request('no/such/method'), (e) => e.code === Codes.MethodNotFound);
});

test('AbortSignal cancels a request with $/cancelRequest', async (t) => {
  const { file } = lines(10);
  const c = await start(t);
  const s = await c.openSession({ source: file });
  await s.wait();
  const sent = [];
  const orig = c.connection.sendNotification.bind(c.connection);
  c.connection.sendNotification = (type, ...rest) => {
    sent.push(typeof type === 'string' ? type : type.method);
    return orig(type, ...rest);
  };
  // A stream without credits waits forever: only cancellation ends it.
  const ac = new AbortController();
  const p = c.request('sessions/stream', { session: s.id, credits: { rows: 0 } }, { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(p, (e) => e.name === 'AbortError');
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(sent.includes('$/cancelRequest'), `sent ${sent}`);
  // The server released the stream slot: a new stream works.
  const rows = [];
  for await (const r of s.stream({ start: 5 })) rows.push(r.index);
  assert.deepEqual(rows, [5, 6, 7, 8, 9]);
});

test('a followed file goes live and streams appended lines until closed', async (t) => {
  const { ls, file } = lines(2);
  const c = await start(t);
  const s = await c.openSession({ source: file, follow: true });
  const live = await s.waitLive({ timeout: 10000 });
  assert.equal(live.state, 'live');
  assert.equal(live.rows, 2);
  const st = s.stream();
  const it = st[Symbol.asyncIterator]();
  assert.deepEqual([(await it.next()).value.line, (await it.next()).value.line], ls);
  fs.appendFileSync(file, 'appended\n');
  assert.equal((await it.next()).value.line, 'appended');
  assert.deepEqual((await s.grab()).map((r) => r.line), [...ls, 'appended']);
  await s.close();
  assert.equal((await it.next()).done, true);
  assert.deepEqual(await st.done(), { session: s.id, rows: 3, next: 3, state: 'closed' });
  assert.equal(s.update.state, 'closed');
  // A bytesource plugin, followed: empty reads at the end of the file make it live, not done.
  const p = await c.openSession({ sourcePlugin: 'file_source', sourceConfig: { 'input-path': [file] }, follow: true });
  assert.equal((await p.waitLive({ timeout: 10000 })).state, 'live');
  assert.equal(p.update.rows, 3);
  await p.close();
});

test('breaking out of a stream cancels it', async (t) => {
  const { file } = lines(1000);
  const c = await start(t);
  const s = await c.openSession({ source: file });
  await s.wait();
  const st = s.stream({ window: 10 });
  let k = 0;
  for await (const row of st) {
    assert.equal(row.index, k);
    if (++k === 3) break;
  }
  assert.equal(await st.done(), undefined);
  const rows = [];
  for await (const r of s.stream({ start: 995 })) rows.push(r.index);
  assert.deepEqual(rows, [995, 996, 997, 998, 999]);
});

test('a stream with an AbortSignal stops with AbortError', async (t) => {
  const { file } = lines(100);
  const c = await start(t);
  const s = await c.openSession({ source: file });
  await s.wait();
  const ac = new AbortController();
  const got = [];
  await assert.rejects(async () => {
    for await (const row of s.stream({ window: 5, signal: ac.signal })) {
      got.push(row.index);
      if (got.length === 2) ac.abort();
    }
  }, (e) => e.name === 'AbortError');
  assert.deepEqual(got, [0, 1]);
});

test('a trapping plugin fails its session', async (t) => {
  const { file } = lines(5);
  const c = await start(t);
  const s = await c.openSession({ parser: HOSTILE, source: file, config: { mode: 'trap' } });
  const final = await s.wait({ timeout: 10000 });
  assert.equal(final.state, 'failed');
  assert.equal(final.error.kind, 'trap');
  assert.equal(final.error.plugin, 'hostile');
  await assert.rejects(async () => {
    for await (const _ of s.stream()) {
      // no rows
    }
  }, (e) => e instanceof SessionFailedError && e.kind === 'trap');
});

test('plugin logs arrive as log events', async (t) => {
  const { file } = lines(2);
  const logs = [];
  const c = await start(t, { logLevel: 'debug', onLog: (m) => logs.push(m) });
  await (await c.openSession({ parser: 'string_parser', source: file })).wait();
  await c.shutdown();
  assert.ok(logs.some((m) => m.plugin === 'string_parser' && /Config item/.test(m.message)), JSON.stringify(logs));
});

test('shutdown exits 0 and later calls fail', async (t) => {
  const c = await start(t);
  assert.equal(await c.shutdown(), 0);
  await assert.rejects(c.listPlugins(), (e) => e instanceof ConnectionClosedError);
});

test('progress: compiled plugins while listing, percentage of the file while parsing', async (t) => {
  // A cache of its own, so the first listing compiles the plugins and says so.
  const c = await start(t, { args: ['--cache-dir', path.join(tmp, `cache-${Math.random().toString(36).slice(2)}`)] });
  const listing = [];
  await c.listPlugins({ onProgress: (p) => listing.push(p) });
  assert.deepEqual(listing.map((p) => p.phase), listing.map(() => 'list'));
  assert.equal(listing[0].kind, 'begin');
  assert.ok(listing.some((p) => p.kind === 'report' && p.message === 'compiling string_parser (0.2 MB), first use only'), JSON.stringify(listing));
  assert.deepEqual(listing.at(-1), { phase: 'list', token: listing[0].token, kind: 'end', message: '2 plugins' });
  const again = [];
  await c.reloadPlugins({ onProgress: (p) => again.push(p.kind) });
  assert.deepEqual(again, ['begin', 'end'], 'a warm cache compiles nothing');

  const { ls, file } = lines(50000);
  const events = [];
  let ended;
  const parseEnded = new Promise((resolve) => { ended = resolve; });
  const s = await c.openSession({
    parser: 'string_parser',
    source: file,
    onProgress: (p) => {
      events.push(p);
      if (p.phase === 'parse' && p.kind === 'end') ended();
    },
  });
  assert.ok(events.some((p) => p.phase === 'open' && p.kind === 'end' && p.message === `session ${s.id} open`));
  assert.ok(events.some((p) => p.phase === 'parse' && p.kind === 'begin' && p.percentage === 0), 'parse begin before the answer');
  await parseEnded;
  const parse = events.filter((p) => p.phase === 'parse');
  const pct = parse.filter((p) => p.kind === 'report').map((p) => p.percentage);
  assert.deepEqual(pct, [...new Set(pct)].sort((a, b) => a - b), 'percentages rise, each different');
  assert.equal(pct.at(-1), 100);
  assert.equal(parse.at(-1).message, `done: ${ls.length} rows`);
});
