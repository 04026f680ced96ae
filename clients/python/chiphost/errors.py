"""Exceptions raised by the chiphost client."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type

from .types import FieldError

# JSON-RPC, LSP and chiphost error codes (spec/protocol.md, rpc/protocol/codes.go).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_NOT_INITIALIZED = -32002
REQUEST_CANCELLED = -32800
REQUEST_FAILED = -32803
PLUGIN_FAILED = -31900
NOT_FOUND = -31901
IO_ERROR = -31902
UNSUPPORTED = -31903
SESSION_CLOSED = -31904
LIMIT_REACHED = -31905


class ChiphostError(Exception):
    """Base class of every error of this package."""


class ConnectionClosed(ChiphostError):
    """The server went away (its stdout ended) before answering."""


class RPCError(ChiphostError):
    """A JSON-RPC error response.

    Attributes: code, message, data (the raw error data or None), method
    (the request's method, when known) and, from chiphost's structured data,
    kind, plugin, detail, plugin_code (the plugin's own error case, or the
    limit reached), errors (per-field config errors, FieldError dicts:
    {"field": config item id, "message": what is wrong}) and, for a plugin
    refused for its imports, imports (dicts {"interface", "kind", "reason"?,
    "functions"}) and hint (what to change in its build, or None).
    """

    def __init__(self, code: int, message: str, data: Any = None, method: Optional[str] = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        self.method = method
        d = data if isinstance(data, dict) else {}
        self.kind: Optional[str] = d.get("kind")
        self.plugin: Optional[str] = d.get("plugin")
        self.detail: Optional[str] = d.get("detail")
        self.plugin_code: Optional[str] = d.get("code")
        self.errors: List[FieldError] = d.get("errors") or []
        self.imports: List[Dict[str, Any]] = d.get("imports") or []
        self.hint: Optional[str] = d.get("hint")
        text = "%s (%d)" % (message, code)
        if self.kind:
            text += " [%s]" % self.kind
        if method:
            text = "%s: %s" % (method, text)
        super().__init__(text)


class InvalidParams(RPCError):
    """-32602: wrong params, unknown ids or an invalid configuration."""


class ConfigError(InvalidParams):
    """-32602 with kind "config": see .errors for the fields at fault."""


class RequestCancelled(RPCError):
    """-32800: the request was cancelled ($/cancelRequest or shutdown)."""


class PluginFailed(RPCError):
    """-31900: the plugin trapped, timed out, ran out of memory or failed."""


class NotFound(RPCError):
    """-31901: no such plugin, session or file."""


class SessionClosed(RPCError):
    """-31904: the session was closed."""


class LimitReached(RPCError):
    """-31905: a server-wide limit was reached; .plugin_code names it
    ("sessions", "memory" or "descriptors"). Closing sessions makes room."""


class MethodNotFound(RPCError):
    """-32601."""


class ServerNotInitialized(RPCError):
    """-32002."""


def error_from_response(err: Dict[str, Any], method: Optional[str] = None) -> RPCError:
    """Builds the most specific RPCError for a response's error object."""
    code = err.get("code", INTERNAL_ERROR)
    message = err.get("message", "")
    data = err.get("data")
    kind = data.get("kind") if isinstance(data, dict) else None
    cls: Type[RPCError] = {
        REQUEST_CANCELLED: RequestCancelled,
        PLUGIN_FAILED: PluginFailed,
        NOT_FOUND: NotFound,
        SESSION_CLOSED: SessionClosed,
        LIMIT_REACHED: LimitReached,
        METHOD_NOT_FOUND: MethodNotFound,
        SERVER_NOT_INITIALIZED: ServerNotInitialized,
    }.get(code, RPCError)
    if code == INVALID_PARAMS:
        cls = ConfigError if kind == "config" else InvalidParams
    return cls(code, message, data, method)


class SessionFailed(ChiphostError):
    """A session ended in state failed; error is the wire error data
    (kind, plugin, detail)."""

    def __init__(self, session: str, error: Optional[Dict[str, Any]]) -> None:
        self.session = session
        self.error: Dict[str, Any] = error or {}
        self.kind: Optional[str] = self.error.get("kind")
        self.plugin: Optional[str] = self.error.get("plugin")
        self.detail: Optional[str] = self.error.get("detail")
        super().__init__("session %s failed: %s [%s]" % (session, self.detail, self.kind))
