"""Message framing: LSP Content-Length headers or newline-delimited JSON."""

from __future__ import annotations

import json
import threading
from typing import IO, Any, Optional, Union

HEADER = "header"
NDJSON = "ndjson"
FRAMINGS = (HEADER, NDJSON)


class FramingError(Exception):
    """The peer sent bytes that are not a frame."""


class Connection:
    """Reads and writes JSON-RPC messages on a pair of binary file objects.

    write_* methods are thread-safe; read is meant for one reader thread.
    """

    def __init__(self, reader: IO[bytes], writer: IO[bytes], framing: str = HEADER) -> None:
        if framing not in FRAMINGS:
            raise ValueError("framing must be %r or %r, not %r" % (HEADER, NDJSON, framing))
        self.framing = framing
        self._r = reader
        self._w = writer
        self._wlock = threading.Lock()

    # Writing

    def write_message(self, msg: Any) -> None:
        """Encodes msg (a dict or list) compactly and writes it as one frame."""
        body = json.dumps(msg, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.write_frame(body)

    def write_frame(self, body: Union[bytes, str]) -> None:
        """Frames body (bytes or str: the JSON text, valid or not) and writes it."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if self.framing == NDJSON:
            data = body + b"\n"
        else:
            data = b"Content-Length: %d\r\n\r\n" % len(body) + body
        self.write_raw(data)

    def write_raw(self, data: Union[bytes, str]) -> None:
        """Writes bytes as they are, without framing."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._wlock:
            self._w.write(data)
            self._w.flush()

    def close_writer(self) -> None:
        """Closes the writer (the peer's input); later writes raise ValueError."""
        with self._wlock:
            try:
                self._w.close()
            except (OSError, ValueError):
                pass

    # Reading

    def read_frame(self) -> Optional[bytes]:
        """Returns the next frame body (bytes), or None at end of input."""
        if self.framing == NDJSON:
            while True:
                line = self._r.readline()
                if not line:
                    return None
                line = line.strip()
                if line:
                    return line
        length = None
        started = False
        while True:
            line = self._r.readline()
            if not line:
                if started:
                    raise FramingError("end of input inside a header")
                return None
            text = line.decode("ascii", "replace").rstrip("\r\n")
            if text == "":
                if not started:
                    continue  # blank line between frames
                break
            started = True
            name, sep, value = text.partition(":")
            if not sep:
                raise FramingError("invalid header line %r" % text)
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise FramingError("invalid Content-Length %r" % value.strip())
        if length is None:
            raise FramingError("frame without Content-Length")
        body = b""
        while len(body) < length:
            chunk = self._r.read(length - len(body))
            if not chunk:
                raise FramingError("end of input inside a frame body")
            body += chunk
        return body

    def read_message(self) -> Any:
        """Returns the next decoded message, or None at end of input."""
        body = self.read_frame()
        if body is None:
            return None
        return json.loads(body.decode("utf-8"))
