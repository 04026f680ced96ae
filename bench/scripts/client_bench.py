# Times one chiphost session through clients/python, for the benchmark suite
# (bench/extclient.go): open, then every row decoded, in grab mode (pages of
# 10000 rows while the session parses) or stream mode (window of 10000 rows).
# Server start-up is not timed. Prints {"secs": ..., "rows": ...}.
import json, sys, time
client_dir, exe, root, cache, tmp, path, mode = sys.argv[1:8]
sys.path.insert(0, client_dir)
from chiphost.client import Client
with Client(binary=exe, args=["--plugins-dir", root, "--cache-dir", cache, "--log-level", "error", "--temp-dir", tmp], no_default_plugins=True) as c:
    pid = [p for p in c.list_plugins() if p.name == "string_parser"][0].id
    t = time.perf_counter()
    s = c.open_session(pid, path)
    n = 0
    if mode == "grab":
        while True:
            rows = c.grab(s, n, 10000)
            n += len(rows)
            if not rows:
                u = c.session_update(s)
                if u is not None and u.finished and n >= u.rows:
                    break
                time.sleep(0.005)
    else:
        for _ in c.stream(s, window=10000):
            n += 1
    dt = time.perf_counter() - t
    s.close()
print(json.dumps({"secs": dt, "rows": n}))
