// Type declarations of the chiphost Node client (CommonJS: require('chiphost')).
import { EventEmitter } from 'node:events';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export declare const Codes: Readonly<{
  ParseError: -32700; InvalidRequest: -32600; MethodNotFound: -32601; InvalidParams: -32602;
  InternalError: -32603; ServerNotInitialized: -32002; RequestCancelled: -32800; RequestFailed: -32803;
  PluginFailed: -31900; NotFound: -31901; IO: -31902; Unsupported: -31903; SessionClosed: -31904;
  LimitReached: -31905;
}>;

export type ErrorKind = 'trap' | 'timeout' | 'oom' | 'abi' | 'plugin-error' | 'config' | 'io' | 'unsupported'
  | 'not-found' | 'cancelled' | 'closed' | 'limit' | 'internal';

export interface FieldError { field: string; message: string; [k: string]: unknown }

/** Imports of one interface that chiphost does not provide (data.imports of an unsupported plugin). */
export interface ImportGroup { interface: string; kind: string; reason?: string; functions: string[] }

/** The data of chiphost errors and of failed sessions. */
export interface ErrorData {
  kind: ErrorKind; plugin?: string; code?: string; detail: string; errors?: FieldError[];
  /** For a plugin refused for its imports: the imports by interface, and what to change in its build. */
  imports?: ImportGroup[]; hint?: string;
  /** for an invalid search pattern: the byte offset in the pattern where it goes wrong */
  position?: number;
}

export declare class ChiphostError extends Error {
  readonly code: number;
  readonly data: unknown;
  readonly method?: string;
  readonly kind?: ErrorKind;
  readonly plugin?: string;
  readonly detail?: string;
  /** The plugin's own error case (plugin-error). */
  readonly pluginCode?: string;
  readonly errors: FieldError[];
}

export declare class SessionFailedError extends Error {
  readonly session: string;
  readonly error: ErrorData;
  readonly kind?: ErrorKind;
  readonly plugin?: string;
  readonly detail?: string;
}

export declare class ConnectionClosedError extends Error {}

export interface InitializeResult {
  serverInfo: { name: string; version: string };
  protocolVersion: string;
  capabilities: {
    pluginKinds: string[]; builtinParsers: string[]; cancellation: boolean; progress: boolean;
    maxFrameBytes: number; maxInFrameBytes: number; maxGrabCount: number;
  };
}

export interface PluginInfo {
  id: string; name: string; kind: 'parser' | 'bytesource' | 'producer'; title: string; description?: string;
  version?: string; apiVersion?: string; path: string; readme?: string; state: 'valid' | 'invalid';
  error?: ErrorData; warnings?: string[];
}

export interface ConfigItem { id: string; title: string; description?: string; inputType: { type: string; [k: string]: unknown } }
export interface ColumnInfo { caption: string; description: string; width: number }
export interface RenderOptions { columns: ColumnInfo[]; minWidth: number; maxWidth: number }

export interface PluginDescription {
  id: string; name: string; kind: 'parser' | 'bytesource' | 'producer'; title: string; description?: string;
  version: string; apiVersion: string;
  configItems: ConfigItem[]; configSchema: Record<string, unknown>; renderOptions?: RenderOptions; warnings?: string[];
}

export interface Row {
  index: number;
  line?: string;
  columns?: string[];
  attachment?: { name: string; size: number; path: string; createdDate?: string; modifiedDate?: string; messages?: number[] };
}

/** 'live': a followed session that has caught up with its source and waits for more. */
export type SessionState = 'running' | 'live' | 'done' | 'failed' | 'closed';

export interface SessionUpdate {
  session: string; rows: number; bytes: number; state: SessionState; error?: ErrorData;
  skippedBytes: number; parseErrors: number;
  /** rows cut to 128 KiB of text; present when not 0, counted when the run ends */
  truncatedRows?: number;
  /** rows that came out different when parsed again past a point where the input was cut (the
   * re-parsed rows are stored): the parser's rows depend on where its input is cut; present when not 0 */
  cutDependentRows?: number;
}

export interface StreamResult { session: string; rows: number; next: number; state: SessionState; error?: ErrorData }

/** One query of a search, as the protocol has it. */
export interface Query {
  pattern: string;
  /** 'literal' (default) or 'regex' (Go RE2 syntax). */
  kind?: 'literal' | 'regex';
  /** Default false: case folded as RE2's (?i). */
  caseSensitive?: boolean;
  /** A match must not be preceded or followed by an ASCII word character. */
  wholeWord?: boolean;
  /** Rows with columns: the 0-based columns to match (default: all, joined by a tab). */
  columns?: number[];
  /** Select the rows the query does not match. */
  invert?: boolean;
}

export interface SearchOptions {
  /** With an array of queries: 'any' (default) or 'all' must match. */
  combine?: 'any' | 'all';
  /** With a string pattern: its query's options. */
  regex?: boolean;
  caseSensitive?: boolean;
  wholeWord?: boolean;
  columns?: number[];
  invert?: boolean;
  signal?: AbortSignal;
  /** Progress of the search (phase 'search'). */
  onProgress?: (p: Progress) => void;
}

/** running, live (every row stored so far searched; the session may get more), done, failed, closed. */
export type SearchState = 'running' | 'live' | 'done' | 'failed' | 'closed';

export interface SearchUpdate {
  search: string; session: string; state: SearchState; matches: number; rowsSearched: number; error?: ErrorData;
}

/** The byte range [start, end) of a match in the line, or in column `column`; UTF-8 bytes (see matchedText). */
export interface MatchRange { start: number; end: number; column?: number }

/** A matching row: the Row as sessions/grab gives it, plus the ranges of its matches. */
export interface SearchItem extends Row {
  ranges: MatchRange[];
  /** Only the first 1024 ranges are given. */
  rangesTruncated?: boolean;
}

/** A match found by searches/nearest: its position (a start for grab) and its session row. */
export interface NearestMatch { match: number; row: number }

export declare class Search {
  readonly client: Client;
  readonly id: string;
  readonly session: string;
  grab(start?: number, count?: number, options?: CallOptions): Promise<SearchItem[]>;
  nearest(row: number, direction?: 'forward' | 'backward', options?: CallOptions): Promise<NearestMatch | null>;
  /** Resolves once the search is done, failed or closed. */
  wait(options?: { timeout?: number; signal?: AbortSignal }): Promise<SearchUpdate>;
  /** Resolves once the search is live (or has ended). */
  waitLive(options?: { timeout?: number; signal?: AbortSignal }): Promise<SearchUpdate>;
  /** Waits for the end of the search and returns every match; on a followed session, once the search has caught up (Client.waitSearchCaughtUp), the matches found so far. */
  matches(options?: { batch?: number; timeout?: number }): Promise<SearchItem[]>;
  readonly update: SearchUpdate | undefined;
  close(options?: CallOptions): Promise<null>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The text of each range of an item (ranges count UTF-8 bytes). */
export declare function matchedText(item: SearchItem): string[];

export interface LogMessage {
  /** 1 error, 2 warning, 3 info, 4 log, 5 debug */
  type: 1 | 2 | 3 | 4 | 5;
  message: string; plugin?: string; session?: string; source?: 'log' | 'stdout' | 'stderr' | 'host';
}

export interface StartOptions {
  /** The chiphost binary (default: $CHIPHOST, else chiphost on PATH). */
  binary?: string;
  /** Extra command-line flags, e.g. ['--plugins-dir', dir]. */
  args?: string[];
  /** Plugin roots sent in initializationOptions.pluginDirs. */
  pluginDirs?: string[];
  /** Pass --no-default-plugins (do not scan ~/.chipmunk/plugins). */
  noDefaultPlugins?: boolean;
  /** Plugin log level: error, warn, info, debug or trace. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** What to do with chiphost's stderr (default 'inherit'). */
  stderr?: 'inherit' | 'ignore' | 'pipe';
  env?: NodeJS.ProcessEnv;
  /** Attach to a running server instead of spawning one (Content-Length framing). */
  streams?: { readable: Readable; writable: Writable };
  /** Shortcut for client.on('log', onLog). */
  onLog?: (m: LogMessage) => void;
}

export interface CallOptions { signal?: AbortSignal }

/** A $/progress value of a series the client asked for, with the phase it belongs to. */
export interface Progress {
  /** 'list': plugins/list or plugins/reload; 'open': sessions/open until the answer; 'parse': the session's parse; 'search': a search. */
  phase: 'list' | 'open' | 'parse' | 'search';
  token: string;
  kind: 'begin' | 'report' | 'end';
  title?: string;
  /** e.g. "compiling string_parser (0.2 MB), first use only", "done: 50000 rows". */
  message?: string;
  /** Percentage of a file read (parse of a regular file). */
  percentage?: number;
}

export interface ListOptions extends CallOptions {
  /** A report for each plugin the listing compiles. */
  onProgress?: (p: Progress) => void;
}

export interface OpenOptions {
  /** A parser plugin: id, name or .wasm path. Without it the built-in text parser is used. */
  parser?: string;
  /** The parser's configuration keyed by config item id. */
  config?: Record<string, unknown>;
  builtin?: 'text';
  /** A file to read. */
  source?: string;
  /** A bytesource plugin to read from instead of a file. */
  sourcePlugin?: string;
  sourceConfig?: Record<string, unknown>;
  /** Keep reading as the input grows (a file like tail -F; a bytesource plugin is polled) until the session is closed. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Progress of the open (phase 'open': plugins being compiled) and of the parse (phase 'parse'). */
  onProgress?: (p: Progress) => void;
}

export interface ProducerOptions {
  /** A producer plugin (kind 'producer'): id, name or .wasm path. */
  producer: string;
  /** The producer's configuration keyed by config item id; it names the producer's input (absolute paths). */
  config?: Record<string, unknown>;
  signal?: AbortSignal;
  /** Progress of the open (phase 'open') and of the run (phase 'parse'). */
  onProgress?: (p: Progress) => void;
}

export interface StreamOptions {
  /** First row index (default 0). */
  start?: number;
  /** Flow-control window: rows the server may send ahead of the loop (default 1000). */
  window?: number;
  /** Aborting cancels the stream; the loop then throws an AbortError. */
  signal?: AbortSignal;
  /** Throw SessionFailedError at the end of a failed session (default true). */
  raiseOnFailure?: boolean;
}

export declare class RowStream implements AsyncIterableIterator<Row> {
  readonly session: string;
  readonly window: number;
  readonly raiseOnFailure: boolean;
  /** The final answer once the iteration has ended (undefined if cancelled). */
  result?: StreamResult;
  [Symbol.asyncIterator](): RowStream;
  next(): Promise<IteratorResult<Row>>;
  return(): Promise<IteratorResult<Row>>;
  /** Sends $/cancelRequest and returns at once. */
  cancel(): void;
  done(): Promise<StreamResult | undefined>;
}

export declare class Session {
  readonly client: Client;
  readonly id: string;
  readonly columns?: ColumnInfo[];
  readonly renderOptions?: RenderOptions;
  grab(start?: number, count?: number, options?: CallOptions): Promise<Row[]>;
  stream(options?: StreamOptions): RowStream;
  wait(options?: { timeout?: number; signal?: AbortSignal }): Promise<SessionUpdate>;
  /** Resolves once a followed session is live (or has ended). */
  waitLive(options?: { timeout?: number; signal?: AbortSignal }): Promise<SessionUpdate>;
  rows(options?: { batch?: number; timeout?: number }): Promise<Row[]>;
  readonly update: SessionUpdate | undefined;
  search(query: string | Query | Query[], options?: SearchOptions): Promise<Search>;
  close(options?: CallOptions): Promise<null>;
}

export declare class Client extends EventEmitter {
  static start(options?: StartOptions): Promise<Client>;
  readonly connection: MessageConnection;
  readonly child: ChildProcess | null;
  serverInfo: InitializeResult | null;
  request<R = unknown>(method: string, params?: unknown, options?: CallOptions): Promise<R>;
  notify(method: string, params?: unknown): Promise<void>;
  listPlugins(options?: ListOptions): Promise<PluginInfo[]>;
  reloadPlugins(options?: ListOptions): Promise<PluginInfo[]>;
  describePlugin(id: string, options?: CallOptions): Promise<PluginDescription>;
  openSession(options: OpenOptions): Promise<Session>;
  /** sessions/open with a producer plugin: no source, no parser; its rows are those of any session. */
  openProducer(options: ProducerOptions): Promise<Session>;
  grab(session: Session | string, start?: number, count?: number, options?: CallOptions): Promise<Row[]>;
  stream(session: Session | string, options?: StreamOptions): RowStream;
  closeSession(session: Session | string, options?: CallOptions): Promise<null>;
  sessionUpdate(session: Session | string): SessionUpdate | undefined;
  waitSession(session: Session | string, options?: { timeout?: number; signal?: AbortSignal }): Promise<SessionUpdate>;
  /** Resolves once a followed session is live (or has ended). */
  waitLive(session: Session | string, options?: { timeout?: number; signal?: AbortSignal }): Promise<SessionUpdate>;
  grabAll(session: Session | string, options?: { batch?: number; timeout?: number }): Promise<Row[]>;
  search(session: Session | string, query: string | Query | Query[], options?: SearchOptions): Promise<Search>;
  searchGrab(search: Search | string, start?: number, count?: number, options?: CallOptions): Promise<SearchItem[]>;
  searchNearest(search: Search | string, row: number, direction?: 'forward' | 'backward', options?: CallOptions): Promise<NearestMatch | null>;
  closeSearch(search: Search | string, options?: CallOptions): Promise<null>;
  searchUpdate(search: Search | string): SearchUpdate | undefined;
  waitSearch(search: Search | string, options?: { timeout?: number; signal?: AbortSignal; live?: boolean }): Promise<SearchUpdate>;
  /** Resolves once the search has ended or, on a followed session, is live with the session live and every row it reported searched. */
  waitSearchCaughtUp(search: Search | string, session: Session | string, options?: { timeout?: number; signal?: AbortSignal }): Promise<SearchUpdate>;
  /** shutdown + exit, then close(). Resolves with the exit code. */
  shutdown(options?: { timeout?: number }): Promise<number | string | null>;
  /** Closes stdin, waits, SIGTERM, SIGKILL. Resolves with the exit code. */
  close(options?: { timeout?: number }): Promise<number | string | null>;
  [Symbol.asyncDispose](): Promise<void>;

  on(event: 'log', listener: (m: LogMessage) => void): this;
  on(event: 'sessionUpdated', listener: (u: SessionUpdate) => void): this;
  on(event: 'searchUpdated', listener: (u: SearchUpdate) => void): this;
  on(event: 'pluginsChanged', listener: (p: { roots: string[] }) => void): this;
  on(event: 'notification', listener: (method: string, params: any) => void): this;
  on(event: 'exit', listener: (code: number | string | null) => void): this;
}
