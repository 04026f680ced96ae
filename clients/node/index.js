'use strict';
// Node client of chiphost (CommonJS). The protocol is spec/protocol.md of
// the chiphost repository; messages travel with vscode-jsonrpc's
// Content-Length framing over the child's stdio.

const { spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');
const path = require('node:path');
const rpc = require('vscode-jsonrpc/node');

const Codes = Object.freeze({
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ServerNotInitialized: -32002,
  RequestCancelled: -32800,
  RequestFailed: -32803,
  PluginFailed: -31900,
  NotFound: -31901,
  IO: -31902,
  Unsupported: -31903,
  SessionClosed: -31904,
  LimitReached: -31905,
});

/** A JSON-RPC error from chiphost, with its structured data. */
class ChiphostError extends Error {
  constructor(code, message, data, method) {
    super(method ? `${method}: ${message} (${code})` : `${message} (${code})`);
    this.name = 'ChiphostError';
    this.code = code;
    this.data = data;
    this.method = method;
    const d = data && typeof data === 'object' ? data : {};
    this.kind = d.kind;
    this.plugin = d.plugin;
    this.detail = d.detail;
    this.pluginCode = d.code;
    this.errors = d.errors || [];
  }
}

/** The session ended in state "failed" (error: the wire error data). */
class SessionFailedError extends Error {
  constructor(session, error) {
    const e = error || {};
    super(`session ${session} failed: ${e.detail} [${e.kind}]`);
    this.name = 'SessionFailedError';
    this.session = session;
    this.error = e;
    this.kind = e.kind;
    this.plugin = e.plugin;
    this.detail = e.detail;
  }
}

/** The server went away before answering. */
class ConnectionClosedError extends Error {
  constructor(message) {
    super(message || 'the chiphost connection is closed');
    this.name = 'ConnectionClosedError';
  }
}

function toError(err, method) {
  if (err instanceof rpc.ResponseError) return new ChiphostError(err.code, err.message, err.data, method);
  if (err && /disposed|closed|ended/i.test(String(err.message))) return new ConnectionClosedError(`${method}: ${err.message}`);
  return err;
}

function abortError(signal) {
  if (signal && signal.reason instanceof Error) return signal.reason;
  const e = new Error('the operation was aborted');
  e.name = 'AbortError';
  return e;
}

function sid(session) {
  return typeof session === 'string' ? session : session.id;
}

function qid(search) {
  return typeof search === 'string' ? search : search.id;
}

const FINISHED = new Set(['done', 'failed', 'closed']);

// LSP work-done progress values ($/progress {token, value}).
const progressType = new rpc.ProgressType();

/**
 * A connection to a chiphost server. Create it with Client.start().
 * Events: 'log' (LogMessage), 'sessionUpdated' (SessionUpdate),
 * 'searchUpdated' (SearchUpdate),
 * 'pluginsChanged' ({roots}), 'notification' (method, params), 'exit' (code).
 */
class Client extends EventEmitter {
  constructor(connection, child, options) {
    super();
    this.connection = connection;
    this.child = child || null;
    this.options = options;
    this.serverInfo = null;
    this._updates = new Map();
    this._waiters = new Set();
    this._searchUpdates = new Map();
    this._searchWaiters = new Set();
    this._streams = new Map();
    this._closed = false;
    this._progressTokens = 0;
    this._exit = child
      ? new Promise((resolve) => child.once('exit', (code, signal) => resolve(code === null ? signal : code)))
      : Promise.resolve(null);
    this._exit.then((code) => this.emit('exit', code));
    connection.onClose(() => this._onClose());
    connection.onNotification((method, params) => this._notification(method, params));
    if (options.onLog) this.on('log', options.onLog);
    connection.listen();
  }

  /**
   * Spawns chiphost (options.binary, else $CHIPHOST, else chiphost on PATH)
   * or attaches to options.streams {readable, writable}, and initializes.
   */
  static async start(options = {}) {
    let child = null;
    let readable;
    let writable;
    if (options.streams) {
      ({ readable, writable } = options.streams);
    } else {
      const bin = options.binary || process.env.CHIPHOST || 'chiphost';
      const args = [];
      if (options.noDefaultPlugins) args.push('--no-default-plugins');
      args.push(...(options.args || []));
      child = spawn(bin, args, { stdio: ['pipe', 'pipe', options.stderr || 'inherit'], env: options.env });
      await new Promise((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      readable = child.stdout;
      writable = child.stdin;
    }
    const connection = rpc.createMessageConnection(
      new rpc.StreamMessageReader(readable),
      new rpc.StreamMessageWriter(writable),
    );
    const client = new Client(connection, child, options);
    client._writable = writable;
    try {
      await client.initialize();
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  async initialize() {
    const init = {};
    if (this.options.pluginDirs && this.options.pluginDirs.length) {
      init.pluginDirs = this.options.pluginDirs.map((d) => path.resolve(d));
    }
    if (this.options.logLevel) init.logLevel = this.options.logLevel;
    const params = { processId: process.pid, clientInfo: { name: 'chiphost-node' }, capabilities: {} };
    if (Object.keys(init).length) params.initializationOptions = init;
    this.serverInfo = await this.request('initialize', params);
    await this.connection.sendNotification('initialized', {});
    return this.serverInfo;
  }

  /**
   * Sends a request. options.signal (an AbortSignal) cancels it: the client
   * sends $/cancelRequest and the promise rejects at once with the abort
   * reason (an AbortError).
   */
  request(method, params, options = {}) {
    if (this._closed) return Promise.reject(new ConnectionClosedError(`${method}: the connection is closed`));
    const signal = options.signal;
    if (signal && signal.aborted) return Promise.reject(abortError(signal));
    const cts = signal ? new rpc.CancellationTokenSource() : null;
    const args = params === undefined ? [] : [params];
    if (cts) args.push(cts.token);
    const p = this.connection.sendRequest(method, ...args).catch((e) => {
      throw toError(e, method);
    });
    if (!signal) return p;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cts.cancel(); // sends $/cancelRequest
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => {
        signal.removeEventListener('abort', onAbort);
        cts.dispose();
      });
    });
  }

  notify(method, params) {
    return this.connection.sendNotification(method, params);
  }

  // Plugins

  /** plugins/list; options.onProgress receives a report for each plugin the listing compiles. */
  listPlugins(options) {
    return this._list('plugins/list', options);
  }

  /** plugins/reload (rescans the roots); options as for listPlugins. */
  reloadPlugins(options) {
    return this._list('plugins/reload', options);
  }

  async _list(method, { onProgress, signal } = {}) {
    const params = {};
    const watch = this._watchProgress('list', onProgress);
    if (watch) params.workDoneToken = watch.token;
    try {
      return (await this.request(method, params, { signal })).plugins;
    } finally {
      if (watch) watch.dispose();
    }
  }

  /**
   * Registers onProgress for the $/progress series of a new token (with
   * vscode-jsonrpc's onProgress), until its 'end' or dispose(). Returns
   * {token, dispose}, or null without onProgress.
   */
  _watchProgress(phase, onProgress) {
    if (!onProgress) return null;
    const token = `chiphost-node-${++this._progressTokens}`;
    const reg = this.connection.onProgress(progressType, token, (value) => {
      if (value.kind === 'end') reg.dispose();
      onProgress({ phase, token, ...value });
    });
    return { token, dispose: () => reg.dispose() };
  }

  describePlugin(id, options) {
    return this.request('plugins/describe', { id }, options);
  }

  // Sessions

  /**
   * sessions/open. parser: a parser plugin (id, name or .wasm path) with
   * config; without parser the built-in text parser (or builtin). source: a
   * file path; or sourcePlugin with sourceConfig. follow: keep reading as
   * the input grows (tail -F) until the session is closed; it goes 'live'
   * once it has caught up (waitLive). onProgress receives
   * {phase, token, kind, title?, message?, percentage?}: phase 'open' until
   * the answer (plugins being compiled), then 'parse' until the parse ends
   * (percentage of a file read).
   */
  async openSession({ parser, config, builtin, source, sourcePlugin, sourceConfig, follow, signal, onProgress } = {}) {
    if ((source === undefined) === (sourcePlugin === undefined)) {
      throw new TypeError('give exactly one of source (a file) or sourcePlugin');
    }
    const src = source !== undefined ? { file: path.resolve(source) } : { plugin: sourcePlugin };
    if (sourcePlugin !== undefined && sourceConfig !== undefined) src.config = sourceConfig;
    if (follow) src.follow = true;
    let par;
    if (parser !== undefined) {
      par = { plugin: parser };
      if (config !== undefined) par.config = config;
    } else {
      if (config !== undefined) throw new TypeError('config needs a parser plugin');
      par = { builtin: builtin || 'text' };
    }
    return this._open({ source: src, parser: par }, signal, onProgress);
  }

  /**
   * sessions/open with a producer plugin (id, name or .wasm path; kind
   * "producer") and its config: the producer reads the input its config
   * names (give paths absolute), so there is no source and no parser.
   */
  async openProducer({ producer, config, signal, onProgress } = {}) {
    if (typeof producer !== 'string' || producer === '') throw new TypeError('producer: want a plugin id, name or .wasm path');
    const prod = { plugin: producer };
    if (config !== undefined) prod.config = config;
    return this._open({ producer: prod }, signal, onProgress);
  }

  async _open(params, signal, onProgress) {
    const opening = this._watchProgress('open', onProgress);
    const parsing = this._watchProgress('parse', onProgress);
    if (onProgress) {
      params.workDoneToken = opening.token;
      params.progressToken = parsing.token;
    }
    let res;
    try {
      res = await this.request('sessions/open', params, { signal });
    } catch (e) {
      if (parsing) parsing.dispose();
      throw e;
    } finally {
      if (opening) opening.dispose();
    }
    return new Session(this, res.session, res.columns, res.renderOptions);
  }

  async grab(session, start = 0, count = 1000, options) {
    return (await this.request('sessions/grab', { session: sid(session), start, count }, options)).items;
  }

  /**
   * sessions/stream as an async iterable of rows with credit-based flow
   * control: the server never runs more than `window` rows ahead of the
   * rows the loop has taken. Breaking out of the loop, or options.signal,
   * cancels the request ($/cancelRequest).
   */
  stream(session, options = {}) {
    return new RowStream(this, sid(session), options);
  }

  closeSession(session, options) {
    return this.request('sessions/close', { session: sid(session) }, options);
  }

  /** The last sessions/updated of a session (undefined before the first). */
  sessionUpdate(session) {
    return this._updates.get(sid(session));
  }

  /** Resolves with the final SessionUpdate once the session is done, failed or closed. */
  waitSession(session, options) {
    return this._waitState(session, (state) => FINISHED.has(state), 'finish', options);
  }

  /**
   * Resolves with the SessionUpdate once a followed session is live (it has
   * stored the rows of everything its source held) or has ended.
   */
  waitLive(session, options) {
    return this._waitState(session, (state) => state === 'live' || FINISHED.has(state), 'go live', options);
  }

  _waitState(session, reached, what, { timeout, signal } = {}) {
    const id = sid(session);
    const now = this._updates.get(id);
    if (now && reached(now.state)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      let timer;
      const w = {
        check: (u) => {
          if (u.session === id && reached(u.state)) done(null, u);
        },
        fail: (e) => done(e),
      };
      const onAbort = () => done(abortError(signal));
      const done = (err, u) => {
        this._waiters.delete(w);
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(u);
      };
      this._waiters.add(w);
      if (timeout) timer = setTimeout(() => done(new Error(`session ${id} did not ${what} within ${timeout} ms`)), timeout);
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Waits for the session to finish and returns all its rows. */
  async grabAll(session, { batch = 10000, timeout } = {}) {
    const u = await this.waitSession(session, { timeout });
    const rows = [];
    while (rows.length < u.rows) {
      const got = await this.grab(session, rows.length, Math.min(batch, u.rows - rows.length));
      if (!got.length) break;
      rows.push(...got);
    }
    return rows;
  }

  // Searches

  /**
   * searches/open: starts searching the session's rows in the server. query
   * is a pattern (a string; options regex, caseSensitive, wholeWord,
   * columns, invert shape it), a query object {pattern, kind?,
   * caseSensitive?, wholeWord?, columns?, invert?} as the protocol has it,
   * or an array of them combined with options.combine ('any', the default,
   * or 'all'). options.onProgress receives {phase: 'search', ...}. An
   * invalid regex rejects with a ChiphostError of code InvalidParams.
   */
  async search(session, query, options = {}) {
    const { combine, regex, caseSensitive, wholeWord, columns, invert, onProgress, signal } = options;
    const params = { session: sid(session) };
    if (typeof query === 'string') {
      const q = { pattern: query };
      if (regex) q.kind = 'regex';
      if (caseSensitive) q.caseSensitive = true;
      if (wholeWord) q.wholeWord = true;
      if (columns !== undefined) q.columns = columns;
      if (invert) q.invert = true;
      params.query = q;
    } else if (regex || caseSensitive || wholeWord || columns !== undefined || invert) {
      throw new TypeError('the options regex, caseSensitive, wholeWord, columns and invert are for a string pattern');
    } else if (Array.isArray(query)) {
      params.queries = query;
      params.combine = combine || 'any';
    } else {
      params.query = query;
    }
    const watch = this._watchProgress('search', onProgress);
    if (watch) params.progressToken = watch.token;
    let res;
    try {
      res = await this.request('searches/open', params, { signal });
    } catch (e) {
      if (watch) watch.dispose();
      throw e;
    }
    return new Search(this, res.search, sid(session));
  }

  /** searches/grab: up to count matches from position start, as rows with the ranges of their matches. */
  async searchGrab(search, start = 0, count = 1000, options) {
    return (await this.request('searches/grab', { search: qid(search), start, count }, options)).items;
  }

  /**
   * searches/nearest: the first match at or after session row `row`
   * (direction 'forward') or the last at or before it ('backward');
   * resolves with {match, row}, or null when there is none (so far).
   */
  async searchNearest(search, row, direction = 'forward', options) {
    const res = await this.request('searches/nearest', { search: qid(search), row, direction }, options);
    return res.found ? { match: res.match, row: res.row } : null;
  }

  closeSearch(search, options) {
    return this.request('searches/close', { search: qid(search) }, options);
  }

  /** The last searches/updated of a search (undefined before the first). */
  searchUpdate(search) {
    return this._searchUpdates.get(qid(search));
  }

  /**
   * Resolves with the SearchUpdate once the search is done, failed or
   * closed; with options.live, also once it is live (it has searched every
   * row stored so far).
   */
  waitSearch(search, { timeout, signal, live } = {}) {
    const id = qid(search);
    const reached = () => {
      const u = this._searchUpdates.get(id);
      return u && (FINISHED.has(u.state) || (live && u.state === 'live')) ? u : undefined;
    };
    return this._waitSearch(id, reached, live ? 'go live' : 'finish', { timeout, signal });
  }

  /**
   * Resolves with the SearchUpdate once the search has ended or, on a
   * followed session, has caught up: the search is live, the session is
   * live (it has read everything its source held) and the search has
   * searched every row the session reported. On a session that is not
   * followed this is waitSearch: a search can be live while its session is
   * still running.
   */
  waitSearchCaughtUp(search, session, { timeout, signal } = {}) {
    const id = qid(search);
    const sessionId = sid(session);
    const reached = () => {
      const u = this._searchUpdates.get(id);
      if (!u) return undefined;
      if (FINISHED.has(u.state)) return u;
      const su = this._updates.get(sessionId);
      return u.state === 'live' && su && su.state === 'live' && u.rowsSearched >= su.rows ? u : undefined;
    };
    return this._waitSearch(id, reached, 'catch up or finish', { timeout, signal });
  }

  // _waitSearch resolves with reached() once it returns an update, checked
  // again at every sessions/updated and searches/updated.
  _waitSearch(id, reached, what, { timeout, signal } = {}) {
    const now = reached();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      let timer;
      const w = {
        check: () => {
          const u = reached();
          if (u) done(null, u);
        },
        fail: (e) => done(e),
      };
      const onAbort = () => done(abortError(signal));
      const done = (err, u) => {
        this._searchWaiters.delete(w);
        this._waiters.delete(w);
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(u);
      };
      this._searchWaiters.add(w);
      this._waiters.add(w);
      if (timeout) timer = setTimeout(() => done(new Error(`search ${id} did not ${what} within ${timeout} ms`)), timeout);
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // Lifecycle

  /** shutdown, exit, then close(). Resolves with the exit code. */
  async shutdown({ timeout = 5000 } = {}) {
    if (!this._closed) {
      try {
        await this.request('shutdown', undefined, { signal: AbortSignal.timeout(timeout) });
        await this.connection.sendNotification('exit');
      } catch {
        // the server is gone or stuck: close() deals with it
      }
    }
    return this.close({ timeout });
  }

  /**
   * Closes chiphost's stdin, waits up to timeout ms, then sends SIGTERM,
   * then SIGKILL. Resolves with the exit code (null for streams).
   */
  async close({ timeout = 5000 } = {}) {
    // Let vscode-jsonrpc hand queued messages (e.g. a $/cancelRequest) to
    // the stream; end() then flushes them before closing.
    await new Promise((resolve) => setImmediate(resolve));
    if (this._writable && !this._writable.destroyed) this._writable.end();
    const child = this.child;
    let code = null;
    if (child) {
      const wait = (ms) => Promise.race([this._exit, new Promise((r) => setTimeout(r, ms, undefined).unref())]);
      code = await wait(timeout);
      if (code === undefined) {
        child.kill('SIGTERM');
        code = await wait(2000);
        if (code === undefined) {
          child.kill('SIGKILL');
          code = await this._exit;
        }
      }
    }
    this._onClose();
    this.connection.dispose();
    return code;
  }

  async [Symbol.asyncDispose]() {
    await this.shutdown();
  }

  _onClose() {
    if (this._closed) return;
    this._closed = true;
    const e = new ConnectionClosedError();
    for (const w of [...this._waiters]) w.fail(e);
    for (const w of [...this._searchWaiters]) w.fail(e);
    for (const s of [...this._streams.values()]) s._fail(e);
  }

  _notification(method, params) {
    switch (method) {
      case 'sessions/items': {
        const s = this._streams.get(params.session);
        if (s) s._items(params.items);
        break;
      }
      case 'sessions/updated':
        this._updates.set(params.session, params);
        for (const w of [...this._waiters]) w.check(params);
        this.emit('sessionUpdated', params);
        break;
      case 'searches/updated':
        this._searchUpdates.set(params.search, params);
        for (const w of [...this._searchWaiters]) w.check(params);
        this.emit('searchUpdated', params);
        break;
      case 'window/logMessage':
        this.emit('log', params);
        break;
      case 'plugins/changed':
        this.emit('pluginsChanged', params);
        break;
      default:
        break;
    }
    this.emit('notification', method, params);
  }
}

/** An open session. */
class Session {
  constructor(client, id, columns, renderOptions) {
    this.client = client;
    this.id = id;
    this.columns = columns;
    this.renderOptions = renderOptions;
  }

  grab(start, count, options) {
    return this.client.grab(this, start, count, options);
  }

  stream(options) {
    return this.client.stream(this, options);
  }

  wait(options) {
    return this.client.waitSession(this, options);
  }

  waitLive(options) {
    return this.client.waitLive(this, options);
  }

  rows(options) {
    return this.client.grabAll(this, options);
  }

  get update() {
    return this.client.sessionUpdate(this);
  }

  search(query, options) {
    return this.client.search(this, query, options);
  }

  close(options) {
    return this.client.closeSession(this, options);
  }
}

/** An open search (Client.search). */
class Search {
  constructor(client, id, session) {
    this.client = client;
    this.id = id;
    this.session = session;
  }

  grab(start, count, options) {
    return this.client.searchGrab(this, start, count, options);
  }

  nearest(row, direction, options) {
    return this.client.searchNearest(this, row, direction, options);
  }

  wait(options) {
    return this.client.waitSearch(this, options);
  }

  waitLive(options) {
    return this.client.waitSearch(this, { ...options, live: true });
  }

  /**
   * Waits for the search to end and returns every match; on a followed
   * session (which never ends by itself), waits until the search has caught
   * up with the rows read so far (Client.waitSearchCaughtUp) and returns the
   * matches found so far.
   */
  async matches({ batch = 10000, timeout } = {}) {
    const u = await this.client.waitSearchCaughtUp(this, this.session, { timeout });
    const items = [];
    while (items.length < u.matches) {
      const got = await this.grab(items.length, Math.min(batch, u.matches - items.length));
      if (!got.length) break;
      items.push(...got);
    }
    return items;
  }

  get update() {
    return this.client.searchUpdate(this);
  }

  close(options) {
    return this.client.closeSearch(this, options);
  }

  async [Symbol.asyncDispose]() {
    try {
      await this.close();
    } catch {
      // already closed, or the connection is gone
    }
  }
}

/**
 * The text of each range of a searches/grab item: ranges count UTF-8
 * bytes, JavaScript strings UTF-16 units.
 */
function matchedText(item) {
  return (item.ranges || []).map((r) => {
    const text = r.column === undefined ? item.line : (item.columns || [])[r.column];
    return Buffer.from(text || '', 'utf8').subarray(r.start, r.end).toString('utf8');
  });
}

/** The async iterable of Client.stream(). */
class RowStream {
  constructor(client, session, { start = 0, window = 1000, signal, raiseOnFailure = true } = {}) {
    if (!(window >= 1)) throw new RangeError('window must be at least 1');
    if (client._streams.has(session)) throw new Error(`session ${session} already has a stream in this client`);
    this.client = client;
    this.session = session;
    this.window = window;
    this.raiseOnFailure = raiseOnFailure;
    this.result = undefined;
    this._rows = [];
    this._consumed = 0;
    this._finished = false;
    this._error = null;
    this._wake = null;
    this._cts = new rpc.CancellationTokenSource();
    client._streams.set(session, this);
    this._signal = signal;
    this._onAbort = () => this.cancel();
    if (signal) {
      if (signal.aborted) queueMicrotask(this._onAbort);
      else signal.addEventListener('abort', this._onAbort, { once: true });
    }
    this._done = client.connection
      .sendRequest('sessions/stream', { session, from: start, credits: { rows: window } }, this._cts.token)
      .then(
        (res) => {
          this.result = res;
          if (res.state === 'failed' && raiseOnFailure) this._error = new SessionFailedError(session, res.error);
        },
        (e) => {
          if (!this._cancelled) this._error = toError(e, 'sessions/stream');
        },
      )
      .finally(() => {
        this._finished = true;
        this._unregister();
        this._poke();
      });
  }

  /** Resolves with the StreamResult (undefined if cancelled). */
  async done() {
    await this._done;
    return this.result;
  }

  /** Cancels the stream ($/cancelRequest) and returns at once. */
  cancel() {
    if (this._cancelled || this._finished) return;
    this._cancelled = true;
    this._rows = [];
    this._unregister();
    this._cts.cancel();
    this._poke();
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  async next() {
    for (;;) {
      if (this._cancelled) {
        if (this._signal && this._signal.aborted) throw abortError(this._signal);
        return { value: undefined, done: true };
      }
      if (this._rows.length) {
        const value = this._rows.shift();
        if (++this._consumed * 2 >= this.window) {
          const n = this._consumed;
          this._consumed = 0;
          this.client.notify('sessions/credit', { session: this.session, credits: { rows: n } }).catch(() => {});
        }
        return { value, done: false };
      }
      if (this._finished) {
        if (this._error) {
          const e = this._error;
          this._error = null;
          throw e;
        }
        return { value: undefined, done: true };
      }
      await new Promise((resolve) => {
        this._wake = resolve;
      });
    }
  }

  async return() {
    this.cancel();
    return { value: undefined, done: true };
  }

  _items(items) {
    if (this._cancelled) return;
    this._rows.push(...items);
    this._poke();
  }

  _fail(e) {
    if (!this._finished) {
      this._error = e;
      this._finished = true;
      this._unregister();
      this._poke();
    }
  }

  _poke() {
    const w = this._wake;
    this._wake = null;
    if (w) w();
  }

  _unregister() {
    if (this.client._streams.get(this.session) === this) this.client._streams.delete(this.session);
    if (this._signal) this._signal.removeEventListener('abort', this._onAbort);
  }
}

module.exports = {
  Client,
  Session,
  Search,
  matchedText,
  RowStream,
  ChiphostError,
  SessionFailedError,
  ConnectionClosedError,
  Codes,
};
