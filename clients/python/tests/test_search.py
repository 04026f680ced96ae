"""Tests of the Python client's searches against the real chiphost binary.

Run from the repository root:
    python3 -m unittest discover -s clients/python/tests
"""

import os
import shutil
import subprocess
import tempfile
import threading
import unittest

import _support  # noqa: F401  (puts the package on sys.path)
from _support import REPO, binary, plugin_root

import chiphost


def generated_log(path, n=5000):
    """n lines of words with multi-byte UTF-8, every 7th ending in CRLF and
    every 11th carrying invalid UTF-8; returns the lines as bytes."""
    words = [b"INFO", b"WARN", b"ERROR", b"disk", b"\xc3\xbcn\xc3\xafc\xc3\xb8d\xc3\xa9", b"request", b"id=42",
             b"took", b"ok", b"okay", b"\xe6\x97\xa5\xe6\x9c\xac"]
    lines = []
    for i in range(n):
        ws = [words[(i * 7 + k * 3) % len(words)] for k in range(1 + i % 6)]
        line = b"%06d " % i + b" ".join(ws)
        if i % 11 == 5:
            line += b" \xff\xe0\x80x"
        lines.append(line)
    with open(path, "wb") as f:
        for i, line in enumerate(lines):
            f.write(line + (b"\r\n" if i % 7 == 0 else b"\n"))
    return lines


def grep_rows(path, *args):
    """The 0-based numbers of the lines grep selects (LC_ALL=C)."""
    env = dict(os.environ, LC_ALL="C")
    out = subprocess.run(["grep", "-a", "-n", *args, "--", path], stdout=subprocess.PIPE, env=env, check=False)
    if out.returncode not in (0, 1):
        raise AssertionError("grep %s failed" % (args,))
    return [int(line.split(b":", 1)[0]) - 1 for line in out.stdout.splitlines()]


class SearchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = binary()
        cls.root = plugin_root("parsers/string_parser")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def client(self):
        c = chiphost.Client(self.bin, no_default_plugins=True, plugin_dirs=[self.root], stderr=subprocess.DEVNULL,
                            timeout=30)
        self.addCleanup(c.close)
        return c

    def test_counts_equal_grep(self):
        if shutil.which("grep") is None:
            self.skipTest("grep is not installed: the counts are compared with grep's")
        generated = os.path.join(self.tmp.name, "gen.log")
        generated_log(generated)
        for path in (os.path.join(REPO, "testdata", "logs", "mixed.log"), generated):
            with self.subTest(log=os.path.basename(path)):
                self.search_like_grep(path)

    def search_like_grep(self, path):
        cases = [
            ("ERROR", dict(case_sensitive=True), ["-F", "ERROR"]),
            ("error", {}, ["-i", "-F", "error"]),
            ("ok", dict(whole_word=True, case_sensitive=True), ["-w", "-F", "ok"]),
            ("INFO", dict(invert=True, case_sensitive=True), ["-v", "-F", "INFO"]),
            (r"id=4[0-9] took", dict(regex=True, case_sensitive=True), ["-E", r"id=4[0-9] took"]),
            ("日本 ok", dict(case_sensitive=True), ["-F", "日本 ok"]),
            ("timeout", {}, ["-i", "-F", "timeout"]),
        ]
        with self.client() as c:
            s = c.open_session(source=path)
            rows = s.wait().rows
            for pattern, opts, grep in cases:
                want = grep_rows(path, *grep)
                with s.search(pattern, **opts) as q:
                    final = q.wait()
                    self.assertEqual((final.state, final.rows_searched, final.matches), ("done", rows, len(want)),
                                     (pattern, opts))
                    items = q.matches()
                    self.assertEqual([it.index for it in items], want, (pattern, opts))
                    if not opts.get("invert") and not opts.get("regex"):
                        for it in items:
                            self.assertTrue(it.ranges, it)
                            for text in it.matched():
                                self.assertEqual(text.lower(), pattern.lower(), it)

    def test_live_session_grab_nearest_close(self):
        path = os.path.join(self.tmp.name, "app.log")
        with open(path, "w") as f:
            f.write("boot ok\nerror: disk\nok\n")
        with self.client() as c:
            s = c.open_session(source=path, follow=True)
            s.wait_live()
            q = s.search("ERROR")
            u = q.wait_live()
            self.assertEqual((u.state, u.matches, u.rows_searched), ("live", 1, 3))
            updated = []
            caught_up = threading.Event()  # the update that counts the appended lines

            def on_update(params):
                updated.append(params)
                # the scan reports the chunk (running) before it notices
                # it has caught up (live): wait for the live one
                if params["rowsSearched"] == 5 and params["state"] == "live":
                    caught_up.set()

            c.on_notification("searches/updated", on_update)
            with open(path, "a") as f:
                f.write("retry\nanother Error\n")
            self.assertTrue(caught_up.wait(30))
            self.assertEqual((q.update.state, q.update.matches), ("live", 2))
            items = q.grab(0, 10)
            self.assertEqual([(it.index, it.line, it.ranges) for it in items],
                             [(1, "error: disk", [chiphost.MatchRange(0, 5)]),
                              (4, "another Error", [chiphost.MatchRange(8, 13)])])
            self.assertEqual(q.nearest(2), chiphost.NearestMatch(1, 4))
            self.assertEqual(q.nearest(2, forward=False), chiphost.NearestMatch(0, 1))
            self.assertIsNone(q.nearest(5))
            self.assertIsNone(q.nearest(0, forward=False))
            s.close()  # closes the search first
            self.assertEqual(q.update.state, "closed")
            self.assertFalse(any(u["state"] in ("done", "failed") for u in updated), updated)
            with self.assertRaises(chiphost.NotFound):
                q.grab()
            with self.assertRaises(chiphost.NotFound):
                s.search("x")

    def test_matches_on_followed_session(self):
        # matches() on a followed session (which never ends by itself) returns
        # the matches of the rows read so far once the search has caught up,
        # instead of waiting for a done that never comes.
        path = os.path.join(self.tmp.name, "follow.log")
        with open(path, "w") as f:
            f.writelines("%05d %s\n" % (i, "error" if i % 10 == 3 else "fine") for i in range(3000))
        with self.client() as c:
            s = c.open_session(source=path, follow=True)
            q = s.search("error")  # at once: the session may still be reading
            items = q.matches()
            self.assertEqual([it.index for it in items], list(range(3, 3000, 10)))
            self.assertEqual((q.update.state, s.update.state), ("live", "live"))
            caught_up = threading.Event()  # the search has searched the appended rows
            c.on_notification("searches/updated",
                              lambda p: p["rowsSearched"] == 3002 and caught_up.set())
            with open(path, "a") as f:
                f.write("late error\nlate ok\n")
            self.assertTrue(caught_up.wait(30))
            self.assertEqual([it.index for it in q.matches()][-2:], [2993, 3000])
            s.close()

    def test_columns_queries_progress_and_errors(self):
        path = os.path.join(self.tmp.name, "in.log")
        with open(path, "w") as f:
            f.write("hello\nsay 7\nbye\n")
        progress = []
        with self.client() as c:
            s = c.open_session(parser="string_parser", source=path, config={"prefix": ">"})
            s.wait()
            q = s.search([chiphost.Query("7", columns=[1]), chiphost.Query("bye")], on_progress=progress.append)
            items = q.matches()
            self.assertEqual([(it.index, it.columns, it.ranges) for it in items],
                             [(1, ["7", "> say 7"], [chiphost.MatchRange(6, 7, column=1)]),
                              (2, ["5", "> bye"], [chiphost.MatchRange(2, 5, column=1)])])
            self.assertEqual(items[0].matched(), ["7"])
            q.close()
            kinds = [(p.phase, p.kind) for p in progress]
            self.assertEqual(kinds[0], ("search", "begin"))
            self.assertEqual(kinds[-1], ("search", "end"))
            self.assertEqual(progress[-1].message, "done: 2 matches in 3 rows")
            with self.assertRaises(chiphost.ConfigError) as cm:
                s.search([chiphost.Query("ok"), chiphost.Query("a(b", regex=True)], combine="all")
            self.assertEqual(cm.exception.errors[0]["field"], "queries[1].pattern")
            self.assertIn("missing closing )", str(cm.exception))
            with self.assertRaises(ValueError):
                s.search(chiphost.Query("x"), regex=True)


if __name__ == "__main__":
    unittest.main()
