// A typed use of the public API, checked by `tsc -p .` (npm test) and never
// run: it fails to compile when index.d.ts drifts from how the client is
// used (README.md) or stops rejecting misuse (the @ts-expect-error lines).
import {
  ChiphostError,
  Client,
  Codes,
  ConnectionClosedError,
  type FieldError,
  type LogMessage,
  type MatchRange,
  matchedText,
  type NearestMatch,
  type PluginDescription,
  type PluginInfo,
  type Progress,
  type Row,
  RowStream,
  Search,
  type SearchItem,
  type SearchState,
  type SearchUpdate,
  Session,
  SessionFailedError,
  type SessionUpdate,
  type StreamResult,
} from 'chiphost';

export async function quickStart(): Promise<void> {
  const c: Client = await Client.start();
  const s: Session = await c.openSession({
    parser: 'testdata/plugins/parsers/string_parser/string_parser.wasm',
    source: 'examples/sample.log',
    config: { prefix: '>' },
  });
  for await (const row of c.stream(s)) console.log(row.index, row.columns?.join(' | ') ?? row.line);
  const code: number | string | null = await c.shutdown();
  console.log(code);
}

export async function producer(c: Client): Promise<void> {
  const s: Session = await c.openProducer({ producer: 'file_producer', config: { 'input-path': ['/var/log/app.log'] } });
  for await (const row of c.stream(s)) console.log(row.index, row.columns);
  // @ts-expect-error the producer is required
  await c.openProducer({ config: {} });
}

export async function everyCall(): Promise<void> {
  await using c = await Client.start({
    binary: 'chiphost',
    args: ['--call-timeout', '5s'],
    pluginDirs: ['testdata/plugins'],
    noDefaultPlugins: true,
    logLevel: 'debug',
    stderr: 'ignore',
    env: process.env,
    onLog: (m: LogMessage) => console.log(m.type, m.plugin, m.message),
  });
  const name: string | undefined = c.serverInfo?.serverInfo.name;
  const maxGrab: number | undefined = c.serverInfo?.capabilities.maxGrabCount;
  console.log(name, maxGrab, c.child?.pid, c.connection);

  const onProgress = (p: Progress): void => {
    const phase: 'list' | 'open' | 'parse' | 'search' = p.phase;
    console.log(phase, p.token, p.kind, p.title, p.message, p.percentage?.toFixed(0));
  };
  await c.listPlugins({ onProgress, signal: AbortSignal.timeout(1000) });
  await c.openSession({ source: 'examples/sample.log', onProgress });
  const plugins: PluginInfo[] = await c.listPlugins();
  const reloaded: PluginInfo[] = await c.reloadPlugins({ signal: AbortSignal.timeout(1000) });
  const valid: boolean = plugins.every((p) => p.state === 'valid') && reloaded.length >= 0;
  const d: PluginDescription = await c.describePlugin('string_parser');
  console.log(valid, d.configItems.map((i) => i.inputType.type), d.renderOptions?.columns[0]?.caption);

  const ac = new AbortController();
  const s = await c.openSession({ source: 'examples/sample.log', signal: ac.signal });
  const viaSource = await c.openSession({ sourcePlugin: 'file_source', sourceConfig: { path: 'x' }, builtin: 'text' });
  const rows: Row[] = await c.grab(s, 0, 10);
  const again: Row[] = await s.grab(0, 10, { signal: ac.signal });
  const all: Row[] = await c.grabAll(s, { batch: 100, timeout: 1000 });
  const same: Row[] = await s.rows();
  const u: SessionUpdate = await c.waitSession(s.id, { timeout: 1000 });
  const last: SessionUpdate | undefined = c.sessionUpdate(s) ?? s.update;
  const w: SessionUpdate = await s.wait({ signal: ac.signal });
  console.log(rows, again, all, same, u.state, u.skippedBytes, u.truncatedRows, last?.rows, w.error?.kind);

  const followed = await c.openSession({ source: 'examples/sample.log', follow: true });
  const live: SessionUpdate = await c.waitLive(followed, { timeout: 1000 });
  const liveToo: SessionUpdate = await followed.waitLive({ signal: ac.signal });
  const isLive: boolean = live.state === 'live' && liveToo.state !== 'running';
  console.log(isLive);
  await followed.close();

  const st: RowStream = s.stream({ start: 2, window: 10, signal: ac.signal, raiseOnFailure: false });
  for await (const r of st) {
    if (r.attachment) console.log(r.attachment.name, r.attachment.size, r.attachment.messages);
    break;
  }
  st.cancel();
  const res: StreamResult | undefined = await st.done();
  console.log(res?.next, st.result?.state, st.session, st.window);

  const q: Search = await s.search('error', { regex: false, caseSensitive: true, wholeWord: true, columns: [1], invert: false, onProgress });
  const q2: Search = await c.search(s, [{ pattern: 'a', kind: 'regex' }, { pattern: 'b', invert: true }], { combine: 'all', signal: ac.signal });
  const q3: Search = await c.search(s.id, { pattern: 'x', caseSensitive: true });
  const su: SearchUpdate = await q.wait({ timeout: 1000 });
  const sl: SearchUpdate = await q2.waitLive({ signal: ac.signal });
  const sw: SearchUpdate = await c.waitSearch(q3, { live: true, timeout: 1000 });
  const state: SearchState = su.state;
  console.log(state, su.matches, su.rowsSearched, su.error?.position, sl.session, sw.search, q.update?.matches, c.searchUpdate(q2.id)?.state);
  const items: SearchItem[] = await q.grab(0, 10, { signal: ac.signal });
  const more: SearchItem[] = await c.searchGrab(q2, 0, 10);
  const everyMatch: SearchItem[] = await q3.matches({ batch: 100, timeout: 1000 });
  for (const it of [...items, ...more, ...everyMatch]) {
    const r: MatchRange | undefined = it.ranges[0];
    const texts: string[] = matchedText(it);
    console.log(it.index, it.line ?? it.columns, r?.start, r?.end, r?.column, it.rangesTruncated, texts);
  }
  const near: NearestMatch | null = await q.nearest(5, 'backward');
  const near2: NearestMatch | null = await c.searchNearest(q2, 5);
  console.log(near?.match, near?.row, near2, q.id, q.session);
  await q.close();
  await c.closeSearch(q2, { signal: ac.signal });
  {
    await using scoped = await s.search('x');
    console.log(scoped.id);
  }

  await s.close();
  await c.closeSession(viaSource, { signal: ac.signal });
  const info: unknown = await c.request('plugins/list', undefined, { signal: ac.signal });
  const typed = await c.request<{ plugins: PluginInfo[] }>('plugins/list');
  await c.notify('$/cancelRequest', { id: 1 });
  console.log(info, typed.plugins.length);

  c.on('log', (m) => console.log(m.message))
    .on('sessionUpdated', (upd) => console.log(upd.rows))
    .on('searchUpdated', (upd) => console.log(upd.matches, upd.rowsSearched))
    .on('pluginsChanged', (p) => console.log(p.roots.join(',')))
    .on('notification', (method, params) => console.log(method, params))
    .on('exit', (code) => console.log(code));
  await c.close({ timeout: 100 });
}

export function errors(e: unknown): string {
  if (e instanceof ChiphostError) {
    const fields: FieldError[] = e.errors;
    const limit: boolean = e.code === Codes.LimitReached && e.pluginCode === 'sessions';
    return `${e.kind} ${e.plugin} ${e.detail} ${fields.map((f) => `${f.field}: ${f.message}`)} ${limit}`;
  }
  if (e instanceof SessionFailedError) return `${e.session} ${e.error.kind} ${e.error.detail}`;
  if (e instanceof ConnectionClosedError) return e.message;
  return String(e);
}

export async function misuse(c: Client, s: Session): Promise<void> {
  // @ts-expect-error parser is a plugin id, name or path
  await c.openSession({ parser: 1, source: 'a.log' });
  // @ts-expect-error builtin names a built-in parser
  await c.openSession({ builtin: 'json', source: 'a.log' });
  // @ts-expect-error onProgress receives one Progress value
  await c.listPlugins({ onProgress: (kind: string, pct: number) => console.log(kind, pct) });
  // @ts-expect-error window is a number of rows
  c.stream(s, { window: '10' });
  // @ts-expect-error logLevel is one of the protocol's levels
  await Client.start({ logLevel: 'verbose' });
  // @ts-expect-error there is no such event
  c.on('items', () => {});
  // @ts-expect-error codes are constants
  Codes.NotFound = 1;
  // @ts-expect-error a query's kind is literal or regex
  await s.search({ pattern: 'x', kind: 'glob' });
  // @ts-expect-error combine is any or all
  await s.search([{ pattern: 'x' }], { combine: 'none' });
  // @ts-expect-error direction is forward or backward
  await c.searchNearest('q1', 0, 'up');
  // @ts-expect-error a field error names the config item in "field"
  const bad: FieldError = { id: 'prefix', message: 'wrong type' };
  console.log(bad);
}
