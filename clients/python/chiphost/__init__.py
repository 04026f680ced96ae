"""Python client of chiphost, the standalone host for Chipmunk log-viewer plugins.

    import chiphost
    with chiphost.Client(plugin_dirs=["plugins"]) as c:
        s = c.open_session(parser="string_parser", source="app.log", config={"prefix": "> "})
        for row in c.stream(s):
            print(row.index, row.columns)

Standard library only. The protocol is described in spec/protocol.md of the
chiphost repository.
"""

from ._framing import HEADER, NDJSON, Connection, FramingError
from .client import Call, Client, Session, SessionFailed, Stream, find_binary
from .errors import (ChiphostError, ConfigError, ConnectionClosed, InvalidParams, LimitReached, MethodNotFound,
                     NotFound, PluginFailed, RequestCancelled, RPCError, ServerNotInitialized, SessionClosed)
from .types import LogMessage, PluginDescription, PluginInfo, Row, ServerInfo, SessionUpdate, StreamResult

__version__ = "0.1.0"

__all__ = [
    "HEADER", "NDJSON", "Connection", "FramingError",
    "Call", "Client", "Session", "SessionFailed", "Stream", "find_binary",
    "ChiphostError", "ConfigError", "ConnectionClosed", "InvalidParams", "LimitReached", "MethodNotFound", "NotFound",
    "PluginFailed", "RequestCancelled", "RPCError", "ServerNotInitialized", "SessionClosed",
    "LogMessage", "PluginDescription", "PluginInfo", "Row", "ServerInfo", "SessionUpdate", "StreamResult",
]
