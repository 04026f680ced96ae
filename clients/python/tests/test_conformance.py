"""Runs the language-neutral conformance cases of spec/conformance with the
Python client's raw mode, in both framings.

Run from the repository root:
    python3 -m unittest discover -s clients/python/tests -v
"""

import os
import unittest

import _support
from _support import REPO, binary

from chiphost import HEADER, NDJSON
from chiphost import conformance as cf

CASES_DIR = os.path.join(REPO, "spec", "conformance")


class ConformanceTest(unittest.TestCase):
    def test_cases(self):
        bin = binary()
        baseline = cf.load_baseline(CASES_DIR)
        cases = cf.load_cases([CASES_DIR])
        self.assertGreater(len(cases), 10)
        names = {n for n, _ in cases}
        for n in baseline:
            self.assertIn(n, names, "baseline names an unknown case")
        for name, case in cases:
            for fr in (HEADER, NDJSON):
                if fr not in case.get("framings", [HEADER, NDJSON]):
                    continue
                with self.subTest(case=name, framing=fr):
                    known = cf.is_known_failure(baseline, name, fr)
                    try:
                        cf.run_case(case, bin, REPO, fr)
                    except cf.CaseError as e:
                        if not known:
                            self.fail("%s\n%s" % (case["description"], e))
                    else:
                        if known:
                            self.fail("passes but is listed in spec/conformance/baseline: remove it")


class MatchTest(unittest.TestCase):
    """The matching rules of spec/conformance/README.md (same table as TestMatch in Go)."""

    TABLE = [
        ("scalar", 1, 1.0, True),
        ("scalar mismatch", "a", "b", False),
        ("subset object", {"a": 1}, {"a": 1, "b": 2}, True),
        ("missing member", {"a": 1}, {"b": 2}, False),
        ("exact object", {"$exact": {"a": 1}}, {"a": 1, "b": 2}, False),
        ("exact nested", {"$exact": {"a": {"b": 1}}}, {"a": {"b": 1, "c": 2}}, False),
        ("exact with operator", {"$exact": {"a": {"$type": "object"}}}, {"a": {"c": 2}}, True),
        ("array length", [1, 2], [1, 2, 3], False),
        ("any", {"a": {"$any": True}}, {"a": None}, True),
        ("absent", {"a": {"$absent": True}}, {"b": 1}, True),
        ("absent present", {"a": {"$absent": True}}, {"a": 1}, False),
        ("type", {"$type": "integer"}, 3, True),
        ("type float", {"$type": "integer"}, 3.5, False),
        ("types", {"$type": ["string", "null"]}, None, True),
        ("regex", {"$regex": "^s[0-9]+$"}, "s12", True),
        ("regex mismatch", {"$regex": "^s[0-9]+$"}, "x", False),
        ("contains", {"$contains": [{"a": 2}]}, [{"a": 1}, {"a": 2}], True),
        ("contains none", {"$contains": [{"a": 3}]}, [{"a": 1}], False),
        ("length", {"$length": 2}, [0, 0], True),
        ("min max", {"$min": 1, "$max": 5}, 6, False),
        ("not", {"$not": "running"}, "done", True),
        ("anyOf", {"$anyOf": [-32600, -32700]}, -32700, True),
        ("bool is not a number", 1, True, False),
    ]

    def test_table(self):
        for name, pattern, value, ok in self.TABLE:
            with self.subTest(name):
                err = cf.match(pattern, value, {})
                self.assertEqual(err is None, ok, err)

    def test_capture_and_substitute(self):
        caps = {}
        pat = {"result": {"session": {"$capture": "sid", "$type": "string"}}}
        self.assertIsNone(cf.match(pat, {"id": 1, "result": {"session": "s1"}}, caps))
        self.assertEqual(caps, {"sid": "s1"})
        got = cf.substitute({"session": "${sid}", "path": "${sid}/x", "n": "${n}"}, {"sid": "s1", "n": 3})
        self.assertEqual(got, {"session": "s1", "path": "s1/x", "n": 3})
        with self.assertRaises(cf.CaseError):
            cf.substitute("${nope}", {})


if __name__ == "__main__":
    unittest.main()
