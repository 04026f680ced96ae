"""The chiphost client: spawns (or attaches to) a chiphost server and speaks
its JSON-RPC 2.0 protocol (spec/protocol.md)."""

from __future__ import annotations

import collections
import itertools
import logging
import os
import queue
import shutil
import signal
import subprocess
import threading
from typing import IO, Any, Callable, DefaultDict, Deque, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import errors
from ._framing import HEADER, Connection, FramingError
from .errors import SessionFailed
from .types import (JSONObject, LogMessage, NearestMatch, PluginDescription, PluginInfo, Progress, Query, Row,
                    SearchItem, SearchUpdate, ServerInfo, SessionUpdate, StreamResult)

StrPath = Union[str, "os.PathLike[str]"]
"""A path: a str or an os.PathLike (pathlib.Path)."""

NotificationHandler = Callable[..., None]
"""fn(params) for one method, fn(method, params) for "*" (Client.on_notification)."""

ProgressHandler = Callable[[Progress], None]
"""on_progress(Progress) of list_plugins, reload_plugins and open_session."""

__all__ = ["Client", "Call", "Search", "Session", "Stream", "find_binary"]

log = logging.getLogger("chiphost")

_LOG_LEVELS = {1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO, 4: logging.INFO, 5: logging.DEBUG}
_END: Any = object()
_FINISHED = ("done", "failed", "closed")


def find_binary(binary: Optional[StrPath] = None) -> str:
    """Returns the chiphost binary to run: binary, else $CHIPHOST, else chiphost on PATH."""
    if binary:
        return os.fspath(binary)
    env = os.environ.get("CHIPHOST")
    if env:
        return env
    found = shutil.which("chiphost")
    if not found:
        raise errors.ChiphostError("chiphost binary not found: pass binary=, set CHIPHOST or put chiphost on PATH")
    return found


class Call:
    """A request in flight. result() waits for the answer; cancel() sends
    $/cancelRequest and returns at once (the server then answers -32800,
    which result() raises as RequestCancelled)."""

    def __init__(self, client: Client, id: int, method: str) -> None:
        self.client = client
        self.id = id
        self.method = method
        self.cancelled = False
        self._done = threading.Event()
        self._response: Optional[JSONObject] = None
        self._callbacks: List[Callable[[Call], None]] = []

    def done(self) -> bool:
        """True once the answer arrived (or the connection closed)."""
        return self._done.is_set()

    def cancel(self) -> None:
        """Sends $/cancelRequest for this request, once, unless it is answered."""
        if not self._done.is_set() and not self.cancelled:
            self.cancelled = True
            try:
                self.client.notify("$/cancelRequest", {"id": self.id})
            except (OSError, ValueError):
                pass

    def result(self, timeout: Optional[float] = None) -> Any:
        """Returns the result, raises RPCError for an error response,
        ConnectionClosed if the server went away, TimeoutError on timeout
        (after cancelling the request)."""
        if not self._done.wait(timeout):
            self.cancel()
            raise TimeoutError("%s: no answer within %ss" % (self.method, timeout))
        resp = self._response
        if resp is None:
            raise errors.ConnectionClosed("%s: the server closed the connection" % self.method)
        if "error" in resp and resp["error"] is not None:
            raise errors.error_from_response(resp["error"], self.method)
        return resp.get("result")

    def add_done_callback(self, fn: Callable[[Call], None]) -> None:
        """fn(call) runs on the reader thread when the answer arrives (at once if it has)."""
        if self._done.is_set():
            fn(self)
        else:
            self._callbacks.append(fn)

    def _set(self, response: Optional[JSONObject]) -> None:
        self._response = response
        self._done.set()
        for fn in self._callbacks:
            try:
                fn(self)
            except Exception:  # a callback bug must not kill the reader
                log.exception("chiphost: call callback failed")


class Client:
    """A connection to a chiphost server.

    Client() spawns the binary (binary=, else $CHIPHOST, else chiphost on
    PATH) with args (extra command-line flags), or attaches to an existing
    server through pipes=(reader, writer), two binary file objects: the
    server's output and its input. It initializes the connection (unless
    raw=True) and is a context manager whose exit shuts the server down.

    Plugin logs (window/logMessage) go to on_log(LogMessage) if given, else to
    the logging module under "chiphost.plugin.<name>".

    Raw mode (raw=True) is for protocol tests: nothing is sent automatically,
    send()/send_frame()/send_raw() write messages, and receive() returns every
    message the server sends, in order.

    # Notes

    Callbacks (on_log, on_notification handlers, Call callbacks) run on the
    reader thread: they must not wait for answers from this client. All other
    methods may be called from any thread.
    """

    def __init__(self, binary: Optional[StrPath] = None, args: Iterable[Any] = (), *,
                 plugin_dirs: Iterable[StrPath] = (), no_default_plugins: bool = False, framing: str = HEADER,
                 pipes: Optional[Tuple[IO[bytes], IO[bytes]]] = None,
                 on_log: Optional[Callable[[LogMessage], None]] = None, log_level: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, stderr: Union[None, int, IO[Any]] = None, raw: bool = False,
                 timeout: float = 60.0, client_name: str = "chiphost-python") -> None:
        self.framing = framing
        self.raw = raw
        self.timeout = timeout
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.server_info: Optional[ServerInfo] = None
        self._on_log = on_log
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: Dict[Any, Call] = {}
        self._streams: Dict[str, Stream] = {}
        self._handlers: DefaultDict[str, List[NotificationHandler]] = collections.defaultdict(list)
        self._updates: Dict[str, SessionUpdate] = {}
        self._search_updates: Dict[str, SearchUpdate] = {}
        self._progress: Dict[str, Tuple[str, ProgressHandler]] = {}  # token -> (phase, fn) of the series asked for
        self._cond = threading.Condition(self._lock)
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._closed = False
        self._shut = False
        self.reader_error: Optional[Exception] = None

        if pipes is not None:
            reader, writer = pipes
        else:
            argv = [find_binary(binary)]
            if framing != HEADER:
                argv += ["--framing", framing]
            if no_default_plugins:
                argv.append("--no-default-plugins")
            argv += [str(a) for a in args]
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
            assert self.process.stdout is not None and self.process.stdin is not None
            reader, writer = self.process.stdout, self.process.stdin
        self.conn = Connection(reader, writer, framing)
        self._reader = threading.Thread(target=self._read_loop, name="chiphost-reader", daemon=True)
        self._reader.start()
        if not raw:
            try:
                self.initialize(plugin_dirs=plugin_dirs, log_level=log_level, client_name=client_name)
            except BaseException:
                self.close()
                raise

    # Context manager

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.raw:
            self.close()
        else:
            self.shutdown()

    # Low level

    def request(self, method: str, params: Any = None, timeout: Optional[float] = None) -> Any:
        """Sends a request and waits for its result (timeout: the client's default)."""
        return self.call_async(method, params).result(self.timeout if timeout is None else timeout)

    def call_async(self, method: str, params: Any = None) -> Call:
        """Sends a request and returns its Call at once."""
        id = next(self._ids)
        call = Call(self, id, method)
        with self._lock:
            if self._closed:
                call._set(None)
                return call
            self._pending[id] = call
        msg: JSONObject = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        try:
            self.conn.write_message(msg)
        except (OSError, ValueError):
            with self._lock:
                self._pending.pop(id, None)
            call._set(None)
        return call

    def notify(self, method: str, params: Any = None) -> None:
        """Sends a notification."""
        msg: JSONObject = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.conn.write_message(msg)

    def on_notification(self, method: str, fn: NotificationHandler) -> None:
        """Registers fn(params) for server notifications of method ("*": all, fn(method, params))."""
        self._handlers[method].append(fn)

    # Raw mode

    def send(self, msg: Any) -> None:
        """Raw mode: writes one message (a dict or list) as a frame."""
        self.conn.write_message(msg)

    def send_frame(self, body: Union[bytes, str]) -> None:
        """Raw mode: frames body (str or bytes, valid JSON or not) and writes it."""
        self.conn.write_frame(body)

    def send_raw(self, data: Union[bytes, str]) -> None:
        """Raw mode: writes bytes without framing."""
        self.conn.write_raw(data)

    def receive(self, timeout: Optional[float] = None) -> Any:
        """Raw mode: the next message from the server, None at end of input.
        Raises TimeoutError after timeout seconds."""
        try:
            return self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("no message from the server within %ss" % timeout) from None

    def close_stdin(self) -> None:
        """Closes the server's input (end of the connection for the server)."""
        self.conn.close_writer()

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Waits for the spawned server to exit and returns its exit code."""
        if self.process is None:
            return None
        return self.process.wait(timeout)

    # Lifecycle

    def initialize(self, plugin_dirs: Iterable[StrPath] = (), log_level: Optional[str] = None,
                   client_name: str = "chiphost-python") -> ServerInfo:
        """Sends initialize and initialized (done by the constructor unless raw=True)."""
        opts: JSONObject = {}
        if plugin_dirs:
            opts["pluginDirs"] = [os.path.abspath(os.path.expanduser(os.fspath(d))) for d in plugin_dirs]
        if log_level:
            opts["logLevel"] = log_level
        params: JSONObject = {"processId": os.getpid(), "clientInfo": {"name": client_name}, "capabilities": {}}
        if opts:
            params["initializationOptions"] = opts
        self.server_info = ServerInfo.from_json(self.request("initialize", params))
        self.notify("initialized", {})
        return self.server_info

    def shutdown(self, timeout: float = 5.0) -> Optional[int]:
        """Sends shutdown and exit, then closes the connection (see close).
        Returns the server's exit code (None for pipes)."""
        if not self._shut and not self._closed:
            self._shut = True
            try:
                self.request("shutdown", None, timeout=timeout)
                self.notify("exit")
            except (errors.ChiphostError, TimeoutError, OSError, ValueError):
                pass
        return self.close(timeout)

    def close(self, timeout: float = 5.0) -> Optional[int]:
        """Closes the server's stdin, waits up to timeout, then sends SIGTERM,
        then SIGKILL. Returns the exit code (None for pipes)."""
        self._shut = True
        self.conn.close_writer()
        code = None
        p = self.process
        if p is not None:
            try:
                code = p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGTERM)
                try:
                    code = p.wait(2)
                except subprocess.TimeoutExpired:
                    p.kill()
                    code = p.wait()
        if p is not None or self._reader is not threading.current_thread():
            self._reader.join(timeout)
        if p is not None and p.stdout:
            p.stdout.close()
        return code

    # Plugins

    def list_plugins(self, on_progress: Optional[ProgressHandler] = None) -> List[PluginInfo]:
        """plugins/list: the plugins found in the plugin roots. on_progress
        receives Progress values (phase "list"), one report for each plugin
        the listing compiles."""
        return self._list("plugins/list", on_progress)

    def reload_plugins(self, on_progress: Optional[ProgressHandler] = None) -> List[PluginInfo]:
        """plugins/reload: rescans the plugin roots (on_progress as for list_plugins)."""
        return self._list("plugins/reload", on_progress)

    def _list(self, method: str, on_progress: Optional[ProgressHandler]) -> List[PluginInfo]:
        params: JSONObject = {}
        token = self._watch_progress("list", on_progress)
        if token is not None:
            params["workDoneToken"] = token
        try:
            res = self.request(method, params)
        finally:
            self._unwatch_progress(token)
        return [PluginInfo.from_json(p) for p in res["plugins"]]

    def _watch_progress(self, phase: str, fn: Optional[ProgressHandler]) -> Optional[str]:
        """Registers fn for the $/progress of a new token; returns the token (None without fn)."""
        if fn is None:
            return None
        token = "chiphost-python-%d" % next(self._ids)
        with self._lock:
            self._progress[token] = (phase, fn)
        return token

    def _unwatch_progress(self, token: Optional[str]) -> None:
        if token is not None:
            with self._lock:
                self._progress.pop(token, None)

    def describe_plugin(self, id: StrPath) -> PluginDescription:
        """plugins/describe: metadata and config schema of a plugin (id, name or .wasm path)."""
        return PluginDescription.from_json(self.request("plugins/describe", {"id": os.fspath(id)}))

    # Sessions

    def open_session(self, parser: Optional[StrPath] = None, source: Optional[StrPath] = None,
                     config: Optional[JSONObject] = None, *, builtin: Optional[str] = None,
                     source_plugin: Optional[StrPath] = None, source_config: Optional[JSONObject] = None,
                     follow: bool = False, timeout: Optional[float] = None,
                     on_progress: Optional[ProgressHandler] = None) -> Session:
        """sessions/open. parser is a parser plugin (id, name or .wasm path)
        configured with config (a dict keyed by config id); without parser the
        built-in text parser is used (or builtin=). source is a file path;
        source_plugin (with source_config) reads through a bytesource plugin
        instead. follow=True keeps reading as the input grows (tail -F) until
        the session is closed: it goes "live" once it has caught up (see
        wait_live). on_progress receives Progress values: phase "open" until
        the answer (plugins being compiled), then phase "parse" until the
        parse ends (percentage of a file read). Returns a Session."""
        if parser is not None and builtin is not None:
            raise ValueError("give parser or builtin, not both")
        if (source is None) == (source_plugin is None):
            raise ValueError("give exactly one of source (a file) or source_plugin")
        src: JSONObject
        if source is not None:
            src = {"file": os.path.abspath(os.fspath(source))}
        else:
            assert source_plugin is not None
            src = {"plugin": os.fspath(source_plugin)}
            if source_config is not None:
                src["config"] = source_config
        if follow:
            src["follow"] = True
        par: JSONObject
        if parser is not None:
            par = {"plugin": os.fspath(parser)}
            if config is not None:
                par["config"] = config
        else:
            if config is not None:
                raise ValueError("config needs a parser plugin")
            par = {"builtin": builtin or "text"}
        return self._open({"source": src, "parser": par}, timeout, on_progress)

    def open_producer(self, producer: StrPath, config: Optional[JSONObject] = None, *,
                      timeout: Optional[float] = None, on_progress: Optional[ProgressHandler] = None) -> Session:
        """sessions/open with a producer plugin (id, name or .wasm path; kind
        "producer"), configured with config (a dict keyed by config id; give
        file paths absolute, the server resolves relative ones against its own
        working directory). The producer reads the input its config names:
        there is no source and no parser. Its rows, grab, stream, progress and
        close are those of any session. Returns a Session."""
        prod: JSONObject = {"plugin": os.fspath(producer)}
        if config is not None:
            prod["config"] = config
        return self._open({"producer": prod}, timeout, on_progress)

    def _open(self, params: JSONObject, timeout: Optional[float], on_progress: Optional[ProgressHandler]) -> Session:
        """sends sessions/open with params, watching progress for on_progress."""
        open_token = self._watch_progress("open", on_progress)
        parse_token = self._watch_progress("parse", on_progress)
        if on_progress is not None:
            params["workDoneToken"], params["progressToken"] = open_token, parse_token
        try:
            res = self.request("sessions/open", params, timeout)
        except BaseException:
            self._unwatch_progress(parse_token)
            raise
        finally:
            self._unwatch_progress(open_token)
        return Session(self, res["session"], res.get("columns"), res.get("renderOptions"))

    def grab(self, session: SessionRef, start: int = 0, count: int = 1000) -> List[Row]:
        """sessions/grab: up to count rows from index start (fewer at the end
        of what has been parsed so far)."""
        res = self.request("sessions/grab", {"session": _sid(session), "start": start, "count": count})
        return [Row.from_json(r) for r in res["items"]]

    def stream(self, session: SessionRef, start: int = 0, window: int = 1000,
               raise_on_failure: bool = True) -> Stream:
        """sessions/stream as a lazy iterator of Rows with credit-based flow
        control: the server never runs more than window rows ahead of the
        rows the iterator has handed out."""
        return Stream(self, _sid(session), start, window, raise_on_failure)

    def close_session(self, session: SessionRef) -> None:
        """sessions/close: stops the session and removes its files."""
        self.request("sessions/close", {"session": _sid(session)})

    def session_update(self, session: SessionRef) -> Optional[SessionUpdate]:
        """The last sessions/updated of a session (None before the first)."""
        with self._lock:
            return self._updates.get(_sid(session))

    def wait_session(self, session: SessionRef, timeout: Optional[float] = None) -> SessionUpdate:
        """Waits until the session is done, failed or closed; returns its last SessionUpdate."""
        sid = _sid(session)
        with self._cond:
            ok = self._cond.wait_for(lambda: self._closed or (sid in self._updates and self._updates[sid].finished),
                                     self.timeout if timeout is None else timeout)
            if not ok:
                raise TimeoutError("session %s did not finish" % sid)
            if sid not in self._updates or not self._updates[sid].finished:
                raise errors.ConnectionClosed("the server closed the connection")
            return self._updates[sid]

    def wait_live(self, session: SessionRef, timeout: Optional[float] = None) -> SessionUpdate:
        """Waits until a followed session is live (it has stored the rows of
        everything its source held) or has ended; returns its SessionUpdate."""
        sid = _sid(session)
        with self._cond:
            ok = self._cond.wait_for(lambda: self._closed or (sid in self._updates and
                                                              (self._updates[sid].live or self._updates[sid].finished)),
                                     self.timeout if timeout is None else timeout)
            if not ok:
                raise TimeoutError("session %s did not go live" % sid)
            upd = self._updates.get(sid)
            if upd is None or not (upd.live or upd.finished):
                raise errors.ConnectionClosed("the server closed the connection")
            return upd

    def grab_all(self, session: SessionRef, batch: int = 10000, timeout: Optional[float] = None) -> List[Row]:
        """Waits for the session to finish and returns all its rows."""
        upd = self.wait_session(session, timeout)
        rows: List[Row] = []
        while len(rows) < upd.rows:
            got = self.grab(session, len(rows), min(batch, upd.rows - len(rows)))
            if not got:
                break
            rows.extend(got)
        return rows

    # Searches

    def search(self, session: SessionRef, query: Union[str, Query, Sequence[Query]], *, combine: str = "any",
               regex: bool = False, case_sensitive: bool = False, whole_word: bool = False,
               columns: Optional[List[int]] = None, invert: bool = False,
               on_progress: Optional[ProgressHandler] = None) -> Search:
        """searches/open: starts searching the session's rows in the server.
        query is a pattern (with the keyword options: regex=True for Go RE2
        syntax, case_sensitive, whole_word, columns, invert), a Query, or a
        list of Queries combined with combine ("any" or "all"). An invalid
        regex raises ConfigError (its message says where and why).
        on_progress receives Progress values of phase "search". Returns a
        Search; its updates arrive as searches/updated (Search.update,
        Search.wait)."""
        params: JSONObject = {"session": _sid(session)}
        if isinstance(query, str):
            params["query"] = Query(query, regex, case_sensitive, whole_word, columns, invert).to_json()
        elif regex or case_sensitive or whole_word or columns is not None or invert:
            raise ValueError("the keyword options are for a pattern given as a str; set them on the Query")
        elif isinstance(query, Query):
            params["query"] = query.to_json()
        else:
            params["queries"] = [q.to_json() for q in query]
            params["combine"] = combine
        token = self._watch_progress("search", on_progress)
        if token is not None:
            params["progressToken"] = token
        try:
            res = self.request("searches/open", params)
        except BaseException:
            self._unwatch_progress(token)
            raise
        return Search(self, res["search"], _sid(session))

    def search_grab(self, search: SearchRef, start: int = 0, count: int = 1000) -> List[SearchItem]:
        """searches/grab: up to count matches from position start (0: the
        match in the lowest row), as rows with the ranges of their matches."""
        res = self.request("searches/grab", {"search": _qid(search), "start": start, "count": count})
        return [SearchItem.from_json(r) for r in res["items"]]

    def search_nearest(self, search: SearchRef, row: int, forward: bool = True) -> Optional[NearestMatch]:
        """searches/nearest: the first match at or after session row `row`
        (forward) or the last at or before it; None when there is none (so
        far)."""
        res = self.request("searches/nearest", {"search": _qid(search), "row": row,
                                                "direction": "forward" if forward else "backward"})
        if not res.get("found"):
            return None
        return NearestMatch(res["match"], res["row"])

    def close_search(self, search: SearchRef) -> None:
        """searches/close: stops the search and forgets its matches."""
        self.request("searches/close", {"search": _qid(search)})

    def search_update(self, search: SearchRef) -> Optional[SearchUpdate]:
        """The last searches/updated of a search (None before the first)."""
        with self._lock:
            return self._search_updates.get(_qid(search))

    def wait_search(self, search: SearchRef, timeout: Optional[float] = None, live: bool = False) -> SearchUpdate:
        """Waits until the search is done, failed or closed (or, with
        live=True, also until it is live: it has searched every row stored
        so far) and returns its last SearchUpdate."""
        qid = _qid(search)

        def reached() -> bool:
            u = self._search_updates.get(qid)
            return u is not None and (u.finished or (live and u.live))

        with self._cond:
            ok = self._cond.wait_for(lambda: self._closed or reached(), self.timeout if timeout is None else timeout)
            if not ok:
                raise TimeoutError("search %s did not %s" % (qid, "go live" if live else "finish"))
            if not reached():
                raise errors.ConnectionClosed("the server closed the connection")
            return self._search_updates[qid]

    def wait_search_caught_up(self, search: SearchRef, session: SessionRef,
                              timeout: Optional[float] = None) -> SearchUpdate:
        """Waits until the search has ended, or, on a followed session, has
        caught up: the search is live, the session is live (it has read
        everything its source held) and the search has searched every row
        the session reported. Returns the search's last SearchUpdate. On a
        session that is not followed this is wait_search: a search can be
        live while its session is still running."""
        qid, sid = _qid(search), _sid(session)

        def reached() -> bool:
            u = self._search_updates.get(qid)
            if u is None or u.finished:
                return u is not None
            su = self._updates.get(sid)
            return u.live and su is not None and su.live and u.rows_searched >= su.rows

        with self._cond:
            ok = self._cond.wait_for(lambda: self._closed or reached(), self.timeout if timeout is None else timeout)
            if not ok:
                raise TimeoutError("search %s did not catch up or finish" % qid)
            if not reached():
                raise errors.ConnectionClosed("the server closed the connection")
            return self._search_updates[qid]

    # Reader thread

    def _read_loop(self) -> None:
        try:
            while True:
                try:
                    msg = self.conn.read_message()
                except (FramingError, ValueError) as e:
                    self.reader_error = e
                    log.error("chiphost: unreadable message from the server: %s", e)
                    break
                except OSError as e:
                    self.reader_error = e
                    break
                if msg is None:
                    break
                if self.raw:
                    self._inbox.put(msg)
                    continue
                for m in msg if isinstance(msg, list) else [msg]:
                    try:
                        self._dispatch(m)
                    except Exception:
                        log.exception("chiphost: dispatching %r failed", m)
        finally:
            with self._cond:
                self._closed = True
                pending, self._pending = self._pending, {}
                streams = list(self._streams.values())
                self._cond.notify_all()
            for call in pending.values():
                call._set(None)
            for st in streams:
                st._q.put(_END)
            self._inbox.put(None)

    def _dispatch(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            return
        method = msg.get("method")
        if method is not None and "id" in msg:  # a request from the server: none are defined
            self.conn.write_message({"jsonrpc": "2.0", "id": msg["id"],
                                     "error": {"code": errors.METHOD_NOT_FOUND, "message": "method not found: %s" % method}})
            return
        if method is not None:
            self._notification(method, msg.get("params"))
            return
        id = msg.get("id")
        with self._lock:
            call = self._pending.pop(id, None)
        if call is not None:
            call._set(msg)
        elif msg.get("error"):
            log.warning("chiphost: server error without a request: %s", msg["error"])

    def _notification(self, method: str, params: Any) -> None:
        params = params if isinstance(params, dict) else {}
        if method == "sessions/items":
            with self._lock:
                st = self._streams.get(params.get("session"))
            if st is not None:
                st._q.put(params)
        elif method == "sessions/updated":
            upd = SessionUpdate.from_json(params)
            with self._cond:
                self._updates[upd.session] = upd
                self._cond.notify_all()
        elif method == "searches/updated":
            supd = SearchUpdate.from_json(params)
            with self._cond:
                self._search_updates[supd.search] = supd
                self._cond.notify_all()
        elif method == "$/progress":
            token = params.get("token")
            value: JSONObject = params["value"] if isinstance(params.get("value"), dict) else {}
            with self._lock:
                watched = self._progress.get(token) if isinstance(token, str) else None
                if watched is not None and value.get("kind") == "end":
                    del self._progress[token]
            if watched is not None:
                phase, on_progress = watched
                on_progress(Progress.from_json(phase, token, value))
        elif method == "window/logMessage":
            m = LogMessage.from_json(params)
            if self._on_log is not None:
                self._on_log(m)
            else:
                name = "chiphost.plugin." + m.plugin if m.plugin else "chiphost.server"
                logging.getLogger(name).log(_LOG_LEVELS.get(m.type, logging.INFO), "%s", m.message)
        for fn in self._handlers.get(method, ()):
            fn(params)
        for fn in self._handlers.get("*", ()):
            fn(method, params)


class Session:
    """An open session (sessions/open). A context manager that closes it."""

    def __init__(self, client: Client, id: str, columns: Optional[List[JSONObject]] = None,
                 render_options: Optional[JSONObject] = None) -> None:
        self.client = client
        self.id = id
        self.columns = columns
        self.render_options = render_options

    def __repr__(self) -> str:
        return "Session(%r)" % self.id

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        except errors.ChiphostError:
            pass

    def grab(self, start: int = 0, count: int = 1000) -> List[Row]:
        """Client.grab for this session."""
        return self.client.grab(self, start, count)

    def stream(self, start: int = 0, window: int = 1000, raise_on_failure: bool = True) -> Stream:
        """Client.stream for this session."""
        return self.client.stream(self, start, window, raise_on_failure)

    def search(self, query: Union[str, Query, Sequence[Query]], **options: Any) -> Search:
        """Client.search for this session (same keyword options)."""
        return self.client.search(self, query, **options)

    def wait(self, timeout: Optional[float] = None) -> SessionUpdate:
        """Client.wait_session for this session."""
        return self.client.wait_session(self, timeout)

    def wait_live(self, timeout: Optional[float] = None) -> SessionUpdate:
        """Client.wait_live for this session."""
        return self.client.wait_live(self, timeout)

    def rows(self, timeout: Optional[float] = None) -> List[Row]:
        """Client.grab_all for this session."""
        return self.client.grab_all(self, timeout=timeout)

    @property
    def update(self) -> Optional[SessionUpdate]:
        """The last sessions/updated of this session (None before the first)."""
        return self.client.session_update(self)

    def close(self) -> None:
        """Client.close_session for this session."""
        self.client.close_session(self)


SessionRef = Union[Session, str]
"""A session: a Session or its id."""


class Search:
    """An open search (Client.search). A context manager that closes it."""

    def __init__(self, client: Client, id: str, session: str) -> None:
        self.client = client
        self.id = id
        self.session = session

    def __repr__(self) -> str:
        return "Search(%r)" % self.id

    def __enter__(self) -> Search:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        except errors.ChiphostError:
            pass

    def grab(self, start: int = 0, count: int = 1000) -> List[SearchItem]:
        """Client.search_grab for this search."""
        return self.client.search_grab(self, start, count)

    def nearest(self, row: int, forward: bool = True) -> Optional[NearestMatch]:
        """Client.search_nearest for this search."""
        return self.client.search_nearest(self, row, forward)

    def wait(self, timeout: Optional[float] = None) -> SearchUpdate:
        """Client.wait_search for this search: until it is done, failed or closed."""
        return self.client.wait_search(self, timeout)

    def wait_live(self, timeout: Optional[float] = None) -> SearchUpdate:
        """Until the search has searched every row stored so far (live) or has ended."""
        return self.client.wait_search(self, timeout, live=True)

    def matches(self, batch: int = 10000, timeout: Optional[float] = None) -> List[SearchItem]:
        """Waits for the search to end and returns every match; on a followed
        session (which never ends by itself), waits until the search has
        caught up with the rows read so far (Client.wait_search_caught_up)
        and returns the matches found so far."""
        upd = self.client.wait_search_caught_up(self, self.session, timeout)
        items: List[SearchItem] = []
        while len(items) < upd.matches:
            got = self.grab(len(items), min(batch, upd.matches - len(items)))
            if not got:
                break
            items.extend(got)
        return items

    @property
    def update(self) -> Optional[SearchUpdate]:
        """The last searches/updated of this search (None before the first)."""
        return self.client.search_update(self)

    def close(self) -> None:
        """Client.close_search for this search."""
        self.client.close_search(self)


SearchRef = Union[Search, str]
"""A search: a Search or its id."""


class Stream:
    """A lazy iterator over a session's rows (sessions/stream).

    The server may send at most window rows that the iterator has not yet
    handed out; the iterator grants more (sessions/credit) as rows are
    consumed. Iteration ends when every row of a finished session was sent
    (result then holds the StreamResult) and raises SessionFailed if the
    session failed (unless raise_on_failure=False). close(), or leaving a
    for loop early on a generator-like close, cancels the request with
    $/cancelRequest and returns at once.
    """

    def __init__(self, client: Client, session: str, start: int, window: int, raise_on_failure: bool) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.client = client
        self.session = session
        self.window = window
        self.result: Optional[StreamResult] = None
        self._raise = raise_on_failure
        self._q: queue.Queue[Any] = queue.Queue()
        self._buf: Deque[Row] = collections.deque()
        self._consumed = 0
        self._finished = False
        with client._lock:
            if session in client._streams:
                raise errors.ChiphostError("session %s already has a stream in this client" % session)
            client._streams[session] = self
        self._call = client.call_async("sessions/stream", {"session": session, "from": start, "credits": {"rows": window}})
        self._call.add_done_callback(lambda call: self._q.put(_END))

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Row:
        while not self._buf:
            if self._finished:
                raise StopIteration
            item = self._q.get()
            if item is _END:
                self._finish()
                continue
            self._buf.extend(Row.from_json(r) for r in item.get("items") or [])
        row = self._buf.popleft()
        self._consumed += 1
        if self._consumed * 2 >= self.window:
            n, self._consumed = self._consumed, 0
            try:
                self.client.notify("sessions/credit", {"session": self.session, "credits": {"rows": n}})
            except (OSError, ValueError):
                pass
        return row

    def _finish(self) -> None:
        self._finished = True
        self._unregister()
        if self._call.cancelled:
            return
        res = self._call.result(0)  # raises the error response, if any
        self.result = StreamResult.from_json(res)
        if self.result.state == "failed" and self._raise:
            raise SessionFailed(self.session, self.result.error)

    def _unregister(self) -> None:
        with self.client._lock:
            if self.client._streams.get(self.session) is self:
                del self.client._streams[self.session]

    def close(self) -> None:
        """Cancels the stream ($/cancelRequest) and returns at once."""
        if not self._finished:
            self._finished = True
            self._buf.clear()
            self._unregister()
            self._call.cancel()

    cancel = close

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _sid(session: SessionRef) -> str:
    return session.id if isinstance(session, Session) else str(session)


def _qid(search: SearchRef) -> str:
    return search.id if isinstance(search, Search) else str(search)
