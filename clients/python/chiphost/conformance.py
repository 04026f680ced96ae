"""Runs the language-neutral conformance cases of spec/conformance against a
chiphost binary, with the client's raw mode.

    python3 -m chiphost.conformance [--binary PATH] [--framing header|ndjson] [--repo DIR] [CASE.json|DIR ...]

The case format and the matching rules are documented in
spec/conformance/README.md; the Go runner (spec/conformance/conformance_test.go)
implements the same rules.
"""

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import IO, Any, Callable, Dict, List, NoReturn, Optional, Sequence, Set, Tuple

from ._framing import HEADER, NDJSON
from .client import Client, find_binary

Env = Dict[str, Any]
"""Placeholder values: REPO, TMP and the captures so far."""
Baseline = Dict[str, Set[str]]
"""Known failures: case name -> framings ("" = all)."""

DEFAULT_IGNORE = ["window/logMessage", "sessions/updated", "$/progress", "plugins/changed"]
DEFAULT_TIMEOUT_MS = 10000
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class CaseError(AssertionError):
    """A conformance case failed."""


# Placeholders


def substitute(value: Any, env: Env) -> Any:
    """Replaces ${NAME} in every string of value. A string that is exactly
    "${NAME}" becomes the variable's JSON value, whatever its type."""
    if isinstance(value, str):
        m = _PLACEHOLDER.fullmatch(value)
        if m:
            return _lookup(m.group(1), env)

        def rep(m: "re.Match[str]") -> str:
            v = _lookup(m.group(1), env)
            return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))

        return _PLACEHOLDER.sub(rep, value)
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    if isinstance(value, dict):
        # Patterns keep $capture names literal.
        return {k: (v if k == "$capture" else substitute(v, env)) for k, v in value.items()}
    return value


def _lookup(name: str, env: Env) -> Any:
    if name not in env:
        raise CaseError("unknown placeholder ${%s} (known: %s)" % (name, ", ".join(sorted(env))))
    return env[name]


# Matching


_TYPES: Dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}

_OPERATORS = {"$any", "$absent", "$type", "$regex", "$exact", "$contains", "$length", "$min", "$max",
              "$capture", "$not", "$anyOf"}


def is_operator(p: Any) -> bool:
    """True for an object whose keys all start with $ (an operator object)."""
    return isinstance(p, dict) and len(p) > 0 and all(k.startswith("$") for k in p)


def match(pattern: Any, value: Any, captures: Env, path: str = "$", exact: bool = False) -> Optional[str]:
    """Returns None if value matches pattern, else a description of the first
    mismatch. Plain objects match as subsets unless exact (inside $exact),
    when their key sets must be equal. Captures go into captures."""
    if is_operator(pattern):
        return _match_ops(pattern, value, captures, path, exact)
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return "%s: want an object, found %s" % (path, _short(value))
        if exact:
            extra = sorted(set(value) - set(pattern))
            if extra:
                return "%s: unexpected member(s) %s in %s" % (path, ", ".join(extra), _short(value))
        for k, p in pattern.items():
            if is_operator(p) and p.get("$absent"):
                if k in value:
                    return "%s.%s: want no such member, found %s" % (path, k, _short(value[k]))
                continue
            if k not in value:
                return "%s.%s: missing" % (path, k)
            err = match(p, value[k], captures, "%s.%s" % (path, k), exact)
            if err:
                return err
        return None
    if isinstance(pattern, list):
        if not isinstance(value, list):
            return "%s: want an array, found %s" % (path, _short(value))
        if len(pattern) != len(value):
            return "%s: want %d elements, found %d: %s" % (path, len(pattern), len(value), _short(value))
        for i, (p, v) in enumerate(zip(pattern, value)):
            err = match(p, v, captures, "%s[%d]" % (path, i), exact)
            if err:
                return err
        return None
    if not _equal(pattern, value):
        return "%s: want %s, found %s" % (path, _short(pattern), _short(value))
    return None


def _match_ops(ops: Dict[str, Any], value: Any, captures: Env, path: str, exact: bool) -> Optional[str]:
    unknown = set(ops) - _OPERATORS
    if unknown:
        raise CaseError("%s: unknown operator(s) %s" % (path, ", ".join(sorted(unknown))))
    if ops.get("$absent"):
        return "%s: want no such member" % path
    if "$type" in ops:
        types = ops["$type"] if isinstance(ops["$type"], list) else [ops["$type"]]
        for t in types:
            if t not in _TYPES:
                raise CaseError("%s: unknown $type %r" % (path, t))
        if not any(_TYPES[t](value) for t in types):
            return "%s: want type %s, found %s" % (path, "|".join(types), _short(value))
    if "$regex" in ops:
        if not isinstance(value, str):
            return "%s: want a string matching /%s/, found %s" % (path, ops["$regex"], _short(value))
        if not re.search(ops["$regex"], value):
            return "%s: %s does not match /%s/" % (path, _short(value), ops["$regex"])
    if "$exact" in ops:
        err = match(ops["$exact"], value, captures, path, True)
        if err:
            return err
    if "$length" in ops:
        if not isinstance(value, (list, str, dict)) or len(value) != ops["$length"]:
            return "%s: want length %s, found %s" % (path, ops["$length"], _short(value))
    if "$min" in ops:
        if not _TYPES["number"](value) or value < ops["$min"]:
            return "%s: want a number >= %s, found %s" % (path, ops["$min"], _short(value))
    if "$max" in ops:
        if not _TYPES["number"](value) or value > ops["$max"]:
            return "%s: want a number <= %s, found %s" % (path, ops["$max"], _short(value))
    if "$contains" in ops:
        if not isinstance(value, list):
            return "%s: want an array, found %s" % (path, _short(value))
        for i, p in enumerate(ops["$contains"]):
            for v in value:  # the first matching element's captures count
                c = dict(captures)
                if match(p, v, c, path, exact) is None:
                    captures.update(c)
                    break
            else:
                return "%s: no element matches %s in %s" % (path, _short(p), _short(value))
    if "$anyOf" in ops:
        errs: List[str] = []
        for p in ops["$anyOf"]:
            c = dict(captures)
            err = match(p, value, c, path, exact)
            if err is None:
                captures.update(c)
                break
            errs.append(err)
        else:
            return "%s: matches none of $anyOf: %s" % (path, "; ".join(errs))
    if "$not" in ops and match(ops["$not"], value, dict(captures), path, exact) is None:
        return "%s: %s matches the $not pattern %s" % (path, _short(value), _short(ops["$not"]))
    if "$capture" in ops:
        captures[ops["$capture"]] = value
    return None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return bool(a.keys() == b.keys()) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _short(v: Any, n: int = 300) -> str:
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "…"


# Running


def load_cases(paths: Sequence[str]) -> List[Tuple[str, Dict[str, Any]]]:
    """Returns (name, case) for every *.json under paths, sorted by name."""
    files: List[str] = []
    for p in paths:
        if os.path.isdir(p):
            files += [os.path.join(p, f) for f in os.listdir(p) if f.endswith(".json")]
        else:
            files.append(p)
    out = []
    for f in sorted(files):
        with open(f, encoding="utf-8") as fh:
            out.append((os.path.splitext(os.path.basename(f))[0], json.load(fh)))
    return out


def load_baseline(directory: str) -> Baseline:
    """Reads directory/baseline: {case name: set of framings ("" = all)}."""
    out: Baseline = {}
    try:
        with open(os.path.join(directory, "baseline"), encoding="utf-8") as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                if fields:
                    out.setdefault(fields[0], set()).add(fields[1] if len(fields) > 1 else "")
    except FileNotFoundError:
        pass
    return out


def is_known_failure(baseline: Baseline, name: str, framing: str) -> bool:
    """True when the baseline lists the case for this framing (or for all)."""
    fr = baseline.get(name, set())
    return "" in fr or framing in fr


def expand_steps(steps: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Replaces macro steps by the steps they stand for."""
    out: List[Dict[str, Any]] = []
    for st in steps:
        if st.get("macro") == "initialize":
            out += [
                {"send": {"jsonrpc": "2.0", "id": "init", "method": "initialize",
                          "params": {"processId": None, "clientInfo": {"name": "conformance"}, "capabilities": {}}}},
                {"expect": {"jsonrpc": "2.0", "id": "init", "result": {"serverInfo": {"name": "chiphost"}}}},
                {"send": {"jsonrpc": "2.0", "method": "initialized", "params": {}}},
            ]
        elif "macro" in st:
            raise CaseError("unknown macro %r" % st["macro"])
        else:
            out.append(st)
    return out


def setup_case(case: Dict[str, Any], env: Env) -> None:
    """Creates the case's setup files and links below ${TMP}."""
    apply_fs(case.get("setup") or {}, env)


def apply_fs(setup: Dict[str, Any], env: Env) -> None:
    """Creates setup["files"] and setup["links"] below ${TMP}; appends setup["append"] to files there."""
    tmp = env["TMP"]
    for rel, content in (setup.get("files") or {}).items():
        path = os.path.join(tmp, substitute(rel, env))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(content, dict):
            fmt = content.get("format", "line {i}")
            content = "".join(fmt.replace("{i}", str(i)) + "\n" for i in range(content["lines"]))
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(substitute(content, env))
    for rel, content in (setup.get("append") or {}).items():
        with open(os.path.join(tmp, substitute(rel, env)), "a", encoding="utf-8", newline="") as f:
            f.write(substitute(content, env))
    for rel, target in (setup.get("links") or {}).items():
        path = os.path.join(tmp, substitute(rel, env))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(substitute(target, env), path)


def run_case(case: Dict[str, Any], binary: str, repo: str, framing: str = HEADER,
             log: Optional[IO[Any]] = None) -> None:
    """Runs one case; raises CaseError on the first failure."""
    tmp = tempfile.mkdtemp(prefix="chiphost-conformance-")
    env = {"REPO": os.path.abspath(repo), "TMP": tmp}
    client: Optional[Client] = None
    try:
        setup_case(case, env)
        args = ["--no-default-plugins"] + [str(a) for a in substitute(case.get("args") or [], env)]
        client = Client(binary, args, framing=framing, raw=True, stderr=subprocess.DEVNULL if log is None else log)
        _Runner(case, client, env).run()
    finally:
        if client is not None:
            client.close(timeout=2)
        shutil.rmtree(tmp, ignore_errors=True)


class _Runner:
    def __init__(self, case: Dict[str, Any], client: Client, env: Env) -> None:
        self.case = case
        self.c = client
        self.env = env
        self.ignore: List[str] = case.get("ignore", DEFAULT_IGNORE)
        self.timeout_ms: int = case.get("timeout_ms", DEFAULT_TIMEOUT_MS)
        self.buffer: List[Any] = []  # received, not yet consumed
        self.eof = False
        self.history: List[Any] = []

    def fail(self, i: int, st: Dict[str, Any], msg: str) -> NoReturn:
        recent = "\n  ".join(_short(m, 400) for m in self.history[-8:])
        raise CaseError("step %d %s: %s\n  last messages received:\n  %s" % (i, _short(st, 200), msg, recent))

    def next_message(self, deadline: float) -> bool:
        """Reads one more message into the buffer; False at EOF or timeout."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            m = self.c.receive(timeout=left)
        except TimeoutError:
            return False
        if m is None:
            self.eof = True
            return False
        self.history.append(m)
        self.buffer.append(m)
        return True

    def ignored(self, m: Any) -> bool:
        return isinstance(m, dict) and "id" not in m and m.get("method") in self.ignore

    def run(self) -> None:
        for i, st in enumerate(expand_steps(self.case["steps"])):
            timeout = st.get("timeout_ms", self.timeout_ms) / 1000.0
            deadline = time.monotonic() + timeout
            if "send" in st:
                self.c.send(substitute(st["send"], self.env))
            elif "send_frame" in st:
                self.c.send_frame(substitute(st["send_frame"], self.env))
            elif "send_frame_base64" in st:
                self.c.send_frame(base64.b64decode(substitute(st["send_frame_base64"], self.env), validate=True))
            elif "send_raw" in st:
                self.c.send_raw(substitute(st["send_raw"], self.env))
            elif "expect" in st:
                pat = substitute(st["expect"], self.env)
                while True:
                    m = next((m for m in self.buffer if not self.ignored(m)), None)
                    if m is not None:
                        break
                    if not self.next_message(deadline):
                        self.fail(i, st, "no message (%s)" % ("end of output" if self.eof else "timeout"))
                caps: Env = {}
                err = match(pat, m, caps)
                if err:
                    self.fail(i, st, "message %s does not match: %s" % (_short(m), err))
                self.buffer.remove(m)
                self.env.update(caps)
            elif "await" in st:
                pat = substitute(st["await"], self.env)
                scanned = 0
                while True:
                    found = None
                    for m in self.buffer[scanned:]:
                        caps = {}
                        if match(pat, m, caps) is None:
                            found = m
                            break
                    if found is not None:
                        self.buffer.remove(found)
                        self.env.update(caps)
                        break
                    scanned = len(self.buffer)
                    if not self.next_message(deadline):
                        self.fail(i, st, "no matching message (%s)" % ("end of output" if self.eof else "timeout"))
            elif "expect_none" in st:
                pat = substitute(st["expect_none"], self.env)
                deadline = time.monotonic() + st.get("for_ms", 300) / 1000.0
                while True:
                    for m in self.buffer:
                        if match(pat, m, {}) is None:
                            self.fail(i, st, "unexpected message %s" % _short(m))
                    if not self.next_message(deadline):
                        break
            elif "fs" in st:
                apply_fs(st["fs"], self.env)
            elif st.get("close_stdin"):
                self.c.close_stdin()
            elif "expect_exit" in st:
                while self.next_message(deadline):
                    pass
                if not self.eof:
                    self.fail(i, st, "the server did not close its output")
                left = [m for m in self.buffer if not self.ignored(m)]
                if left:
                    self.fail(i, st, "unexpected message(s) before exit: %s" % _short(left))
                try:
                    code = self.c.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.fail(i, st, "the server did not exit")
                if code != st["expect_exit"]:
                    self.fail(i, st, "exit code %s, want %s" % (code, st["expect_exit"]))
            else:
                raise CaseError("step %d: unknown step %s" % (i, _short(st)))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command: runs the cases and returns the exit status (1 if any failed)."""
    ap = argparse.ArgumentParser(prog="python3 -m chiphost.conformance", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--binary", help="chiphost binary (default: $CHIPHOST or chiphost on PATH)")
    ap.add_argument("--repo", default=".", help="repository root, the value of ${REPO} (default: .)")
    ap.add_argument("--framing", choices=[HEADER, NDJSON, "both"], default="both")
    ap.add_argument("cases", nargs="*", help="case files or directories (default: REPO/spec/conformance)")
    a = ap.parse_args(argv)
    binary = find_binary(a.binary)
    paths = a.cases or [os.path.join(a.repo, "spec", "conformance")]
    framings = [HEADER, NDJSON] if a.framing == "both" else [a.framing]
    baseline = load_baseline(os.path.join(a.repo, "spec", "conformance"))
    failed = 0
    for name, case in load_cases(paths):
        for fr in framings:
            if fr not in case.get("framings", [HEADER, NDJSON]):
                continue
            known = is_known_failure(baseline, name, fr)
            t0 = time.monotonic()
            try:
                run_case(case, binary, a.repo, fr)
                if known:
                    failed += 1
                    print("FAIL %s [%s]: passes but is listed in the baseline: remove it" % (name, fr))
                else:
                    print("ok   %s [%s] %.2fs" % (name, fr, time.monotonic() - t0))
            except CaseError as e:
                if known:
                    print("known failure (baseline) %s [%s]: %s" % (name, fr, str(e).splitlines()[0]))
                else:
                    failed += 1
                    print("FAIL %s [%s]: %s" % (name, fr, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
