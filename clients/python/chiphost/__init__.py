"""Python client of chiphost, the standalone host for Chipmunk log-viewer plugins.

    import chiphost
    with chiphost.Client(plugin_dirs=["plugins"]) as c:  # chiphost on PATH, or $CHIPHOST
        s = c.open_session(parser="string_parser", source="app.log", config={"prefix": ">"})
        for row in c.stream(s):
            print(row.index, row.columns)

Standard library only, typed (py.typed). The protocol is described in spec/protocol.md of the
chiphost repository.
"""

from ._framing import HEADER, NDJSON, Connection, FramingError
from .client import Call, Client, Search, SearchRef, Session, SessionRef, Stream, StrPath, find_binary
from .errors import (ChiphostError, ConfigError, ConnectionClosed, InvalidParams, LimitReached, MethodNotFound,
                     NotFound, PluginFailed, RequestCancelled, RPCError, ServerNotInitialized, SessionClosed,
                     SessionFailed)
from .types import (FieldError, JSONObject, LogMessage, MatchRange, NearestMatch, PluginDescription, PluginInfo,
                    Progress, Query, Row, SearchItem, SearchUpdate, ServerInfo, SessionUpdate, StreamResult)

__version__ = "0.1.0"

__all__ = [
    "HEADER", "NDJSON", "Connection", "FramingError",
    "Call", "Client", "Search", "SearchRef", "Session", "SessionFailed", "SessionRef", "Stream", "StrPath", "find_binary",
    "ChiphostError", "ConfigError", "ConnectionClosed", "InvalidParams", "LimitReached", "MethodNotFound", "NotFound",
    "PluginFailed", "RequestCancelled", "RPCError", "ServerNotInitialized", "SessionClosed",
    "FieldError", "JSONObject", "LogMessage", "MatchRange", "NearestMatch", "PluginDescription", "PluginInfo", "Progress",
    "Query", "Row", "SearchItem", "SearchUpdate", "ServerInfo", "SessionUpdate", "StreamResult",
]
