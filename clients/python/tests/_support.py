"""Shared helpers of the chiphost client tests: the binary and plugin roots."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PLUGINS = os.path.join(REPO, "testdata", "plugins")
HOSTILE = os.path.join(PLUGINS, "hostile", "hostile.wasm")
STRING_PARSER = os.path.join(PLUGINS, "parsers", "string_parser", "string_parser.wasm")

sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..")))

_binary = None


def binary():
    """$CHIPHOST, or chiphost built from this repository into a temp dir (once per process)."""
    global _binary
    if _binary:
        return _binary
    env = os.environ.get("CHIPHOST")
    if env:
        _binary = env
        return env
    out = tempfile.mkdtemp(prefix="chiphost-pytest-bin-")
    atexit.register(shutil.rmtree, out, True)
    path = os.path.join(out, "chiphost")
    subprocess.run(["go", "build", "-o", path, "./cmd/chiphost"], cwd=REPO, check=True)
    _binary = path
    return path


def plugin_root(*names):
    """A temporary plugin root holding only the named plugins of testdata
    (e.g. "parsers/string_parser"), linked. It leaves out js_string_parser,
    whose 12 MB take seconds to load."""
    root = tempfile.mkdtemp(prefix="chiphost-pytest-root-")
    atexit.register(shutil.rmtree, root, True)
    for n in names:
        dst = os.path.join(root, n)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.symlink(os.path.join(PLUGINS, n), dst)
    return root


def write_lines(dir, name, lines):
    path = os.path.join(dir, name)
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    return path
