"""Result types of the chiphost protocol (spec/protocol.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, TypedDict

JSONObject = Dict[str, Any]
"""A JSON object as decoded from the wire."""


class FieldError(TypedDict):
    """One per-field configuration error: an entry of data.errors of a -32602
    error with kind "config", exactly as the server sends it."""

    field: str
    """The config item id."""
    message: str
    """What is wrong with its value."""


@dataclass
class ServerInfo:
    name: str
    version: str
    protocol_version: str
    capabilities: Dict[str, Any]

    @classmethod
    def from_json(cls, d: JSONObject) -> ServerInfo:
        si = d.get("serverInfo") or {}
        return cls(si.get("name", ""), si.get("version", ""), d.get("protocolVersion", ""), d.get("capabilities") or {})


@dataclass
class PluginInfo:
    """One discovered plugin (plugins/list)."""

    id: str
    name: str
    kind: str
    title: str
    path: str
    state: str
    version: str = ""
    api_version: str = ""
    description: Optional[str] = None
    error: Optional[Dict[str, Any]] = None
    warnings: List[str] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def valid(self) -> bool:
        return self.state == "valid"

    @classmethod
    def from_json(cls, d: JSONObject) -> PluginInfo:
        return cls(
            id=d.get("id", ""), name=d.get("name", ""), kind=d.get("kind", ""), title=d.get("title", ""),
            path=d.get("path", ""), state=d.get("state", ""), version=d.get("version", ""),
            api_version=d.get("apiVersion", ""), description=d.get("description"), error=d.get("error"),
            warnings=d.get("warnings") or [], raw=d,
        )


@dataclass
class PluginDescription:
    """A plugin's metadata and config schema (plugins/describe)."""

    id: str
    name: str
    kind: str
    version: str
    api_version: str
    config_items: List[Dict[str, Any]]
    config_schema: Dict[str, Any]
    title: str = ""
    description: Optional[str] = None
    render_options: Optional[Dict[str, Any]] = None
    warnings: List[str] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: JSONObject) -> PluginDescription:
        return cls(
            id=d.get("id", ""), name=d.get("name", ""), kind=d.get("kind", ""), version=d.get("version", ""),
            title=d.get("title", ""), description=d.get("description"),
            api_version=d.get("apiVersion", ""), config_items=d.get("configItems") or [],
            config_schema=d.get("configSchema") or {}, render_options=d.get("renderOptions"),
            warnings=d.get("warnings") or [], raw=d,
        )


@dataclass
class Row:
    """One parsed item: line for single-line messages, columns otherwise."""

    index: int
    line: Optional[str] = None
    columns: Optional[List[str]] = None
    attachment: Optional[Dict[str, Any]] = None

    @property
    def text(self) -> str:
        """The message as one string (columns joined by a tab)."""
        if self.line is not None:
            return self.line
        return "\t".join(self.columns or [])

    @classmethod
    def from_json(cls, d: JSONObject) -> Row:
        return cls(d.get("index", 0), d.get("line"), d.get("columns"), d.get("attachment"))


@dataclass
class SessionUpdate:
    """A sessions/updated notification: progress and state of a session."""

    session: str
    rows: int
    bytes: int
    state: str
    skipped_bytes: int = 0
    parse_errors: int = 0
    error: Optional[Dict[str, Any]] = None
    truncated_rows: int = 0  # rows cut to 128 KiB of text, counted when the run ends
    # rows that came out different when parsed again past a point where the input was cut:
    # the parser's rows depend on where its input is cut (the re-parsed rows are stored)
    cut_dependent_rows: int = 0

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "closed")

    @property
    def live(self) -> bool:
        """A followed session that has caught up with its source and waits for more."""
        return self.state == "live"

    @classmethod
    def from_json(cls, d: JSONObject) -> SessionUpdate:
        return cls(
            d.get("session", ""), d.get("rows", 0), d.get("bytes", 0), d.get("state", ""),
            d.get("skippedBytes", 0), d.get("parseErrors", 0), d.get("error"),
            d.get("truncatedRows", 0), d.get("cutDependentRows", 0),
        )


@dataclass
class Progress:
    """One $/progress notification of a series the client asked for.

    phase says which: "list" (plugins/list or plugins/reload: compiling
    plugins), "open" (sessions/open until the answer: compiling plugins),
    "parse" (the session's parse, until it ends) or "search" (a search,
    until it ends). kind is "begin", "report"
    or "end"; percentage is set for the parse of a regular file."""

    phase: str
    token: Any
    kind: str
    title: Optional[str] = None
    message: Optional[str] = None
    percentage: Optional[int] = None

    @classmethod
    def from_json(cls, phase: str, token: Any, value: JSONObject) -> Progress:
        return cls(phase, token, value.get("kind", ""), value.get("title"), value.get("message"), value.get("percentage"))


@dataclass
class StreamResult:
    """The final answer of sessions/stream."""

    session: str
    rows: int
    next: int
    state: str
    error: Optional[Dict[str, Any]] = None

    @classmethod
    def from_json(cls, d: JSONObject) -> StreamResult:
        return cls(d.get("session", ""), d.get("rows", 0), d.get("next", 0), d.get("state", ""), d.get("error"))


@dataclass
class Query:
    """One query of a search (searches/open): pattern, a literal unless
    regex=True (Go RE2 syntax); case folded unless case_sensitive; whole_word
    keeps only matches not inside a word; columns (rows with columns) names
    the 0-based columns to match, each on its own (default: all joined by a
    tab); invert selects the rows the query does not match."""

    pattern: str
    regex: bool = False
    case_sensitive: bool = False
    whole_word: bool = False
    columns: Optional[List[int]] = None
    invert: bool = False

    def to_json(self) -> JSONObject:
        """The query object of the protocol."""
        d: JSONObject = {"pattern": self.pattern}
        if self.regex:
            d["kind"] = "regex"
        if self.case_sensitive:
            d["caseSensitive"] = True
        if self.whole_word:
            d["wholeWord"] = True
        if self.columns is not None:
            d["columns"] = list(self.columns)
        if self.invert:
            d["invert"] = True
        return d


@dataclass
class MatchRange:
    """The byte range [start, end) of a match in a row's line (column None)
    or in column `column` of a row with columns. Offsets count UTF-8 bytes:
    slice row.line.encode()[start:end] (see SearchItem.matched)."""

    start: int
    end: int
    column: Optional[int] = None

    @classmethod
    def from_json(cls, d: JSONObject) -> MatchRange:
        return cls(d.get("start", 0), d.get("end", 0), d.get("column"))


@dataclass
class SearchItem(Row):
    """A matching row (searches/grab): the Row, plus the ranges of its matches."""

    ranges: List[MatchRange] = field(default_factory=list)
    ranges_truncated: bool = False  # only the first 1024 ranges are given

    def matched(self) -> List[str]:
        """The text of each range (decoded from the UTF-8 bytes it covers)."""
        out = []
        for r in self.ranges:
            text = self.line if r.column is None else (self.columns or [])[r.column]
            out.append((text or "").encode("utf-8")[r.start:r.end].decode("utf-8", "replace"))
        return out

    @classmethod
    def from_json(cls, d: JSONObject) -> SearchItem:
        return cls(d.get("index", 0), d.get("line"), d.get("columns"), d.get("attachment"),
                   [MatchRange.from_json(r) for r in d.get("ranges") or []], bool(d.get("rangesTruncated")))


@dataclass
class SearchUpdate:
    """A searches/updated notification: progress and state of a search.
    state is running, live (every row stored so far searched; the session
    may get more), done, failed or closed."""

    search: str
    session: str
    state: str
    matches: int
    rows_searched: int
    error: Optional[Dict[str, Any]] = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed", "closed")

    @property
    def live(self) -> bool:
        return self.state == "live"

    @classmethod
    def from_json(cls, d: JSONObject) -> SearchUpdate:
        return cls(d.get("search", ""), d.get("session", ""), d.get("state", ""), d.get("matches", 0),
                   d.get("rowsSearched", 0), d.get("error"))


@dataclass
class NearestMatch:
    """The answer of searches/nearest: the match's position (a start for
    grab) and its session row."""

    match: int
    row: int


@dataclass
class LogMessage:
    """A window/logMessage notification (plugin logs, plugin stdout/stderr, host notes)."""

    type: int  # 1 error, 2 warning, 3 info, 4 log, 5 debug
    message: str
    plugin: str = ""
    session: str = ""
    source: str = ""

    @classmethod
    def from_json(cls, d: JSONObject) -> LogMessage:
        return cls(d.get("type", 4), d.get("message", ""), d.get("plugin", ""), d.get("session", ""), d.get("source", ""))
