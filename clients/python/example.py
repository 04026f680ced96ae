"""Parse a log with a Chipmunk parser plugin and print its rows.

    cd clients/python && python3 example.py [LOG] [PARSER]   (chiphost on PATH, or CHIPHOST=/path/to/chiphost)
"""
import sys

import chiphost

log = sys.argv[1] if len(sys.argv) > 1 else "../../examples/sample.log"
parser = sys.argv[2] if len(sys.argv) > 2 else "../../testdata/plugins/parsers/string_parser/string_parser.wasm"

with chiphost.Client(on_log=lambda m: None) as c:
    session = c.open_session(parser=parser, source=log, config={"prefix": ">"})
    for row in c.stream(session):
        print(row.index, " | ".join(row.columns))
