"""Tests of the Python client against the real chiphost binary and real plugins.

Run from the repository root:
    python3 -m unittest discover -s clients/python/tests
"""

import os
import subprocess
import tempfile
import threading
import time
import unittest

import _support  # noqa: F401  (puts the package on sys.path)
from _support import HOSTILE, STRING_PARSER, binary, plugin_root, write_lines

import chiphost


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = binary()
        cls.root = plugin_root("parsers/string_parser", "parsers/go_records", "bytesources/file_source")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.logs = []

    def client(self, **kw):
        kw.setdefault("plugin_dirs", [self.root])
        kw.setdefault("on_log", self.logs.append)
        c = chiphost.Client(self.bin, no_default_plugins=True, stderr=subprocess.DEVNULL, timeout=30, **kw)
        self.addCleanup(c.close)
        return c

    def lines(self, n, name="in.log"):
        lines = ["line %d: %s" % (i, "x" * (i % 17)) for i in range(n)]
        return lines, write_lines(self.tmp.name, name, lines)

    def test_initialize_and_plugins(self):
        with self.client() as c:
            self.assertEqual(c.server_info.name, "chiphost")
            self.assertIn("text", c.server_info.capabilities["builtinParsers"])
            plugins = {p.name: p for p in c.list_plugins()}
            self.assertEqual(set(plugins), {"string_parser", "go_records", "file_source"})
            self.assertEqual(plugins["string_parser"].kind, "parser")
            self.assertEqual(plugins["file_source"].kind, "bytesource")
            self.assertTrue(all(p.valid for p in plugins.values()))
            self.assertEqual({p.name for p in c.reload_plugins()}, set(plugins))
            d = c.describe_plugin("string_parser")
            self.assertEqual(d.kind, "parser")
            self.assertEqual(d.title, "String Parser")
            self.assertEqual(d.description, plugins["string_parser"].description)
            ids = [it["id"] for it in d.config_items]
            self.assertIn("prefix", ids)
            self.assertIn("lossy", ids)
            self.assertEqual(d.config_schema.get("type"), "object")
            self.assertIn("prefix", d.config_schema.get("properties", {}))

    def test_grab_rows_and_content(self):
        lines, path = self.lines(250)
        with self.client() as c:
            s = c.open_session(parser="string_parser", source=path, config={"prefix": "P:"})
            self.assertEqual([col["caption"] for col in s.columns], ["Length", "Message"])
            final = s.wait()
            self.assertEqual((final.state, final.rows), ("done", 250))
            self.assertEqual(final.bytes, os.path.getsize(path))
            rows = c.grab(s, 0, 250)
            self.assertEqual([r.index for r in rows], list(range(250)))
            for r, line in zip(rows, lines):
                self.assertEqual(len(r.columns), 2)
                self.assertTrue(r.columns[1].startswith("P:"), r)
                self.assertTrue(r.columns[1].endswith(line), r)
            # A window in the middle, and a window past the end.
            mid = s.grab(100, 5)
            self.assertEqual([r.index for r in mid], [100, 101, 102, 103, 104])
            self.assertEqual(c.grab(s, 250, 10), [])
            self.assertEqual(len(s.rows()), 250)
            s.close()
            self.assertEqual(c.session_update(s).state, "closed")
            with self.assertRaises(chiphost.NotFound):
                c.grab(s, 0, 1)

    def test_producer_session(self):
        lines, path = self.lines(300)
        root = plugin_root("producers/file_producer")
        with self.client(plugin_dirs=[root]) as c:
            self.assertIn("producer", c.server_info.capabilities["pluginKinds"])
            self.assertEqual([(p.name, p.kind) for p in c.list_plugins()], [("file_producer", "producer")])
            self.assertEqual(c.describe_plugin("file_producer").kind, "producer")
            reports = []
            s = c.open_producer("file_producer", {"input-path": [path], "lines-per-call": 7}, on_progress=reports.append)
            self.assertEqual([col["caption"] for col in s.columns], ["Line", "Text"])
            final = s.wait()
            self.assertEqual((final.state, final.rows, final.bytes), ("done", 300, 0))
            rows = [r.columns for r in s.stream(window=50)]
            self.assertEqual(rows, [[str(i + 1), line] for i, line in enumerate(lines)])
            self.assertEqual(s.grab(299, 5)[0].columns, ["300", lines[-1]])
            with self.assertRaises(chiphost.ChiphostError) as cm:
                c.open_producer("file_producer", {"input-path": [path], "lines-per-call": 0})
            self.assertEqual(cm.exception.code, -32602)
            with self.assertRaises(chiphost.ChiphostError):
                c.open_producer("string_parser")

    def test_builtin_text_parser(self):
        lines, path = self.lines(10)
        with self.client() as c:
            s = c.open_session(source=path)
            self.assertEqual([r.line for r in s.rows()], lines)

    def test_stream_with_flow_control(self):
        # The built-in text parser: string_parser turns a line cut by the
        # driver's 64 KiB chunk boundary into two rows (as in Chipmunk).
        n, window = 20000, 64
        lines, path = self.lines(n)
        with self.client() as c:
            received = [0]
            c.on_notification("sessions/items", lambda p: received.__setitem__(0, received[0] + len(p["items"])))
            s = c.open_session(source=path)
            s.wait()
            st = c.stream(s, window=window)
            got, ahead = [], 0
            for row in st:
                got.append(row)
                ahead = max(ahead, received[0] - len(got))
                if len(got) % 5000 == 0:
                    time.sleep(0.05)  # a slow consumer: the server must wait for credit
            self.assertEqual([r.index for r in got], list(range(n)))
            self.assertEqual([r.line for r in got], lines)
            # Never more rows outstanding than the window granted.
            self.assertLessEqual(ahead, window)
            self.assertEqual((st.result.state, st.result.rows, st.result.next), ("done", n, n))
            # From an offset.
            self.assertEqual([r.index for r in s.stream(start=n - 3)], [n - 3, n - 2, n - 1])

    def test_follow(self):
        # A followed file: the session goes live with the rows so far, a
        # line appended later reaches the stream and grab, and closing the
        # session ends the stream with state closed.
        lines, path = self.lines(2)
        with self.client() as c:
            s = c.open_session(source=path, follow=True)
            upd = s.wait_live()
            self.assertEqual((upd.state, upd.live, upd.finished, upd.rows), ("live", True, False, 2))
            st = s.stream()
            self.assertEqual([next(st).line, next(st).line], lines)
            with open(path, "a", encoding="utf-8") as f:
                f.write("appended\n")
            self.assertEqual(next(st).line, "appended")
            self.assertEqual([r.line for r in s.grab()], lines + ["appended"])
            s.close()
            self.assertEqual(list(st), [])
            self.assertEqual((st.result.state, st.result.rows), ("closed", 3))
            self.assertEqual(s.update.state, "closed")
            # A byte-source plugin, followed: its empty reads at the end of
            # the file make it live, not done.
            with c.open_session(source_plugin="file_source", source_config={"input-path": [path]}, follow=True) as p:
                self.assertEqual((p.wait_live().state, p.update.rows), ("live", 3))

    def test_config_error(self):
        _, path = self.lines(3)
        with self.client() as c:
            with self.assertRaises(chiphost.ConfigError) as cm:
                c.open_session(parser="string_parser", source=path, config={"prefix": 5, "nope": True})
            e = cm.exception
            self.assertEqual(e.code, -32602)
            self.assertEqual(e.kind, "config")
            self.assertEqual(e.plugin, "string_parser")
            self.assertIn("prefix", {fe.get("field") for fe in e.errors})
            self.assertIsInstance(e, chiphost.RPCError)
            # RPCError.errors is typed as FieldError: its keys are exactly the wire's.
            for fe in e.errors:
                self.assertEqual(set(fe), set(chiphost.FieldError.__annotations__), fe)
            self.assertIn("FieldError", chiphost.RPCError.__doc__)

    def test_unknown_plugin_and_session(self):
        _, path = self.lines(3)
        with self.client() as c:
            with self.assertRaises(chiphost.NotFound) as cm:
                c.open_session(parser="no_such_parser", source=path)
            self.assertEqual((cm.exception.code, cm.exception.kind), (-31901, "not-found"))
            with self.assertRaises(chiphost.NotFound):
                c.describe_plugin("no_such_parser")
            with self.assertRaises(chiphost.NotFound):
                c.grab("s999", 0, 1)
            with self.assertRaises(chiphost.MethodNotFound):
                c.request("no/such/method")

    def test_cancel_request(self):
        # A stream without credit waits for sessions/credit forever: only
        # $/cancelRequest ends it, with -32800.
        _, path = self.lines(100)
        with self.client() as c:
            s = c.open_session(parser="string_parser", source=path)
            s.wait()
            call = c.call_async("sessions/stream", {"session": s.id, "credits": {"rows": 0}})
            time.sleep(0.1)
            self.assertFalse(call.done())
            t0 = time.monotonic()
            call.cancel()
            self.assertLess(time.monotonic() - t0, 0.1, "cancel must return at once")
            with self.assertRaises(chiphost.RequestCancelled) as cm:
                call.result(10)
            self.assertEqual(cm.exception.code, -32800)
            # The session still works.
            self.assertEqual(len(s.grab(0, 100)), 100)

    def test_cancel_stream_iterator(self):
        lines, path = self.lines(2000)
        with self.client() as c:
            s = c.open_session(parser="string_parser", source=path)
            s.wait()
            st = s.stream(window=10)
            first = [next(st) for _ in range(3)]
            self.assertEqual([r.index for r in first], [0, 1, 2])
            t0 = time.monotonic()
            st.close()
            self.assertLess(time.monotonic() - t0, 0.1)
            self.assertEqual(list(st), [])
            call = st._call
            with self.assertRaises(chiphost.RequestCancelled):
                call.result(10)
            # The server released the session's stream slot: a new stream works.
            self.assertEqual(len(list(s.stream(start=1990))), 10)

    def test_close_looping_plugin(self):
        _, path = self.lines(10)
        with self.client() as c:
            s = c.open_session(parser=HOSTILE, source=path, config={"mode": "loop"})
            time.sleep(0.2)
            self.assertEqual(c.session_update(s) and c.session_update(s).state or "running", "running")
            t0 = time.monotonic()
            s.close()
            self.assertLess(time.monotonic() - t0, 5)
            self.assertEqual(c.session_update(s).state, "closed")

    def test_hostile_trap_fails_session(self):
        _, path = self.lines(10)
        with self.client() as c:
            s = c.open_session(parser=HOSTILE, source=path, config={"mode": "trap"})
            final = s.wait()
            self.assertEqual(final.state, "failed")
            self.assertEqual(final.error["kind"], "trap")
            self.assertEqual(final.error["plugin"], "hostile")
            with self.assertRaises(chiphost.SessionFailed) as cm:
                list(s.stream())
            self.assertEqual(cm.exception.kind, "trap")
            st = s.stream(raise_on_failure=False)
            self.assertEqual(list(st), [])
            self.assertEqual(st.result.state, "failed")

    def test_plugin_logs(self):
        _, path = self.lines(3)
        with self.client(log_level="debug") as c:
            c.open_session(parser=STRING_PARSER, source=path).wait()
        msgs = [m for m in self.logs if m.plugin == "string_parser"]
        self.assertTrue(msgs, self.logs)
        self.assertTrue(any("Config item" in m.message for m in msgs), msgs)
        self.assertTrue(all(1 <= m.type <= 5 for m in msgs))

    def test_logging_module(self):
        _, path = self.lines(3)
        with self.assertLogs("chiphost.plugin.string_parser", "INFO") as cm:
            with chiphost.Client(self.bin, plugin_dirs=[self.root], no_default_plugins=True, stderr=subprocess.DEVNULL) as c:
                c.open_session(parser="string_parser", source=path).wait()
        self.assertTrue(any("Config item" in line for line in cm.output))

    def test_pipes_and_ndjson(self):
        lines, path = self.lines(5)
        p = subprocess.Popen([self.bin, "--framing", "ndjson", "--no-default-plugins"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.wait, 10)
        with chiphost.Client(pipes=(p.stdout, p.stdin), framing="ndjson", on_log=self.logs.append) as c:
            self.assertEqual([r.line for r in c.open_session(source=path).rows()], lines)
        self.assertEqual(p.wait(10), 0)

    def test_shutdown(self):
        c = self.client()
        self.assertEqual(c.shutdown(), 0)
        with self.assertRaises(chiphost.ConnectionClosed):
            c.list_plugins()

    def test_progress(self):
        # A cache of our own, so the first listing compiles the plugins and
        # says so; then a session's parse reports the percentage of its file.
        lines, path = self.lines(50000)
        events, ended = [], threading.Event()

        def on_progress(p):
            events.append(p)
            if p.phase == "parse" and p.kind == "end":
                ended.set()

        with self.client(args=["--cache-dir", os.path.join(self.tmp.name, "cache")]) as c:
            c.list_plugins(on_progress=on_progress)
            listing = [(p.kind, p.message) for p in events if p.phase == "list"]
            self.assertEqual(listing[0][0], "begin")
            self.assertIn(("report", "compiling string_parser (0.2 MB), first use only"), listing)
            self.assertEqual(listing[-1], ("end", "3 plugins"))
            # Warm now: nothing compiled.
            del events[:]
            c.reload_plugins(on_progress=on_progress)
            self.assertEqual([p.kind for p in events], ["begin", "end"])

            del events[:]
            s = c.open_session(parser="string_parser", source=path, on_progress=on_progress)
            # Both arrive before the answer: the open's series ends, the parse's begins.
            self.assertEqual(events[0].phase + " " + events[0].kind, "open begin")
            self.assertEqual(sorted((p.phase, p.kind) for p in events[1:3]), [("open", "end"), ("parse", "begin")])
            self.assertTrue(ended.wait(30), "the parse progress did not end")
            parse = [p for p in events if p.phase == "parse"]
            percentages = [p.percentage for p in parse if p.kind == "report"]
            self.assertEqual(percentages, sorted(set(percentages)))
            self.assertEqual(percentages[-1], 100)
            self.assertEqual(parse[-1].message, "done: %d rows" % len(lines))
            self.assertEqual(s.wait().rows, len(lines))

    def test_concurrent_calls(self):
        _, path = self.lines(50)
        with self.client() as c:
            s = c.open_session(parser="string_parser", source=path)
            s.wait()
            out = {}

            def work(i):
                out[i] = [r.index for r in c.grab(s, i, 5)]

            ts = [threading.Thread(target=work, args=(i,)) for i in range(20)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertEqual(out, {i: list(range(i, i + 5)) for i in range(20)})


if __name__ == "__main__":
    unittest.main()
