'use strict';
// Tests of the Node client's searches against the real chiphost binary
// ($CHIPHOST, or built from this repository into a temp dir).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { Client, ChiphostError, Codes, matchedText } = require('..');

const REPO = path.resolve(__dirname, '..', '..', '..');
const PLUGINS = path.join(REPO, 'testdata', 'plugins');

let tmp;
let binary;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chiphost-nodesearch-'));
  binary = process.env.CHIPHOST;
  if (!binary) {
    binary = path.join(tmp, 'chiphost');
    execFileSync('go', ['build', '-o', binary, './cmd/chiphost'], { cwd: REPO, stdio: 'inherit' });
  }
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function start(t) {
  const c = await Client.start({ binary, noDefaultPlugins: true, stderr: 'ignore' });
  t.after(() => c.close());
  return c;
}

// n lines with multi-byte UTF-8, some CRLF and some invalid UTF-8.
function generatedLog(file, n = 3000) {
  const words = ['INFO', 'WARN', 'ERROR', 'disk', 'ünïcødé', 'request', 'id=42', 'took', 'ok', 'okay', '日本'];
  const parts = [];
  for (let i = 0; i < n; i++) {
    const ws = Array.from({ length: 1 + (i % 6) }, (_, k) => words[(i * 7 + k * 3) % words.length]);
    let line = Buffer.from(`${String(i).padStart(6, '0')} ${ws.join(' ')}`);
    if (i % 11 === 5) line = Buffer.concat([line, Buffer.from([0x20, 0xff, 0xe0, 0x80, 0x78])]);
    parts.push(line, Buffer.from(i % 7 === 0 ? '\r\n' : '\n'));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

// The 0-based numbers of the lines grep selects (LC_ALL=C), or null without grep.
function grepRows(file, args) {
  const r = spawnSync('grep', ['-a', '-n', ...args, '--', file], { env: { ...process.env, LC_ALL: 'C' } });
  if (r.error) return null;
  assert.ok(r.status === 0 || r.status === 1, `grep ${args} failed`);
  return r.stdout.toString('latin1').split('\n').filter(Boolean).map((l) => Number(l.split(':', 1)[0]) - 1);
}

test('search counts and rows equal grep, ranges are the matches', async (t) => {
  const file = path.join(tmp, 'gen.log');
  generatedLog(file);
  if (grepRows(file, ['-F', 'x']) === null) {
    t.skip('grep is not installed: the counts are compared with grep\'s');
    return;
  }
  const c = await start(t);
  for (const log of [path.join(REPO, 'testdata', 'logs', 'mixed.log'), file]) await searchLikeGrep(c, log);
});

async function searchLikeGrep(c, file) {
  const s = await c.openSession({ source: file });
  const { rows } = await s.wait();
  const cases = [
    ['ERROR', { caseSensitive: true }, ['-F', 'ERROR']],
    ['error', {}, ['-i', '-F', 'error']],
    ['ok', { wholeWord: true, caseSensitive: true }, ['-w', '-F', 'ok']],
    ['INFO', { invert: true, caseSensitive: true }, ['-v', '-F', 'INFO']],
    ['id=4[0-9] took', { regex: true, caseSensitive: true }, ['-E', 'id=4[0-9] took']],
    ['日本 ok', { caseSensitive: true }, ['-F', '日本 ok']],
    ['timeout', {}, ['-i', '-F', 'timeout']],
  ];
  for (const [pattern, options, grep] of cases) {
    const want = grepRows(file, grep);
    const q = await s.search(pattern, options);
    const final = await q.wait({ timeout: 30000 });
    assert.deepEqual([final.state, final.rowsSearched, final.matches], ['done', rows, want.length], `${file} ${pattern}`);
    const items = await q.matches();
    assert.deepEqual(items.map((it) => it.index), want, `${file} ${pattern}`);
    if (!options.invert && !options.regex) {
      for (const it of items) {
        assert.ok(it.ranges.length > 0, JSON.stringify(it));
        for (const m of matchedText(it)) assert.equal(m.toLowerCase(), pattern.toLowerCase());
      }
    }
    await q.close();
  }
  await s.close();
}

test('a search of a followed session keeps up; nearest, close and errors', async (t) => {
  const file = path.join(tmp, 'app.log');
  fs.writeFileSync(file, 'boot ok\nerror: disk\nok\n');
  const c = await start(t);
  const s = await c.openSession({ source: file, follow: true });
  await s.waitLive({ timeout: 10000 });
  const q = await s.search('ERROR');
  const live = await q.waitLive({ timeout: 10000 });
  assert.deepEqual([live.state, live.matches, live.rowsSearched], ['live', 1, 3]);
  const updates = [];
  const caughtUp = new Promise((resolve) => {
    c.on('searchUpdated', (u) => {
      updates.push(u);
      // The scan reports the chunk (running) before it notices it has
      // caught up (live): wait for the live update.
      if (u.search === q.id && u.rowsSearched === 5 && u.state === 'live') resolve(u);
    });
  });
  fs.appendFileSync(file, 'retry\nanother Error\n');
  const u = await caughtUp;
  assert.deepEqual([u.state, u.matches], ['live', 2]);
  const items = await q.grab(0, 10);
  assert.deepEqual(items, [
    { index: 1, line: 'error: disk', ranges: [{ start: 0, end: 5 }] },
    { index: 4, line: 'another Error', ranges: [{ start: 8, end: 13 }] },
  ]);
  assert.deepEqual(await q.nearest(2), { match: 1, row: 4 });
  assert.deepEqual(await q.nearest(2, 'backward'), { match: 0, row: 1 });
  assert.equal(await q.nearest(5), null);
  assert.equal(await q.nearest(0, 'backward'), null);
  await s.close(); // closes the search first
  assert.equal(q.update.state, 'closed');
  assert.ok(!updates.some((x) => x.state === 'done' || x.state === 'failed'), JSON.stringify(updates));
  await assert.rejects(q.grab(), (e) => e instanceof ChiphostError && e.code === Codes.NotFound);
  await assert.rejects(s.search('x'), (e) => e instanceof ChiphostError && e.code === Codes.NotFound);
});

test('matches() on a followed session returns once the search has caught up', async (t) => {
  // A followed session never ends by itself: matches() returns the matches of
  // the rows read so far once the search is live and has searched them all.
  const file = path.join(tmp, 'follow.log');
  const lines = [];
  for (let i = 0; i < 3000; i++) lines.push(`${String(i).padStart(5, '0')} ${i % 10 === 3 ? 'error' : 'fine'}\n`);
  fs.writeFileSync(file, lines.join(''));
  const c = await start(t);
  const s = await c.openSession({ source: file, follow: true });
  const q = await s.search('error'); // at once: the session may still be reading
  const want = [];
  for (let i = 3; i < 3000; i += 10) want.push(i);
  assert.deepEqual((await q.matches()).map((it) => it.index), want);
  assert.deepEqual([q.update.state, s.update.state], ['live', 'live']);
  const caughtUp = new Promise((resolve) => {
    c.on('searchUpdated', (u) => {
      if (u.search === q.id && u.rowsSearched === 3002) resolve(u);
    });
  });
  fs.appendFileSync(file, 'late error\nlate ok\n');
  await caughtUp;
  assert.deepEqual((await q.matches()).map((it) => it.index).slice(-2), [2993, 3000]);
  await s.close();
});

test('columns, several queries, progress and an invalid regex', async (t) => {
  const file = path.join(tmp, 'cols.log');
  fs.writeFileSync(file, 'hello\nsay 7\nbye\n');
  const c = await start(t);
  const s = await c.openSession({
    parser: path.join(PLUGINS, 'parsers', 'string_parser', 'string_parser.wasm'), source: file, config: { prefix: '>' },
  });
  await s.wait();
  const progress = [];
  const q = await s.search([{ pattern: '7', columns: [1] }, { pattern: 'bye' }], { onProgress: (p) => progress.push(p) });
  const items = await q.matches();
  assert.deepEqual(items, [
    { index: 1, columns: ['7', '> say 7'], ranges: [{ column: 1, start: 6, end: 7 }] },
    { index: 2, columns: ['5', '> bye'], ranges: [{ column: 1, start: 2, end: 5 }] },
  ]);
  assert.deepEqual(matchedText(items[1]), ['bye']);
  await q.close();
  assert.deepEqual([progress[0].phase, progress[0].kind], ['search', 'begin']);
  assert.equal(progress.at(-1).kind, 'end');
  assert.equal(progress.at(-1).message, 'done: 2 matches in 3 rows');
  await assert.rejects(
    s.search([{ pattern: 'ok' }, { pattern: 'a(b', kind: 'regex' }], { combine: 'all' }),
    (e) => e instanceof ChiphostError && e.code === Codes.InvalidParams && e.errors[0].field === 'queries[1].pattern' &&
      /missing closing \)/.test(e.message),
  );
  await assert.rejects(s.search({ pattern: 'x' }, { regex: true }), TypeError);
});
