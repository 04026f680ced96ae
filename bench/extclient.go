package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// pythonScript times one session through clients/python: open → every row
// decoded, in grab mode (pages of 10000 while the session parses) or stream
// mode (window of 10000 rows). Server start-up is not timed.
const pythonScript = `
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
`

// nodeScript is pythonScript for clients/node (which must have been
// installed with npm ci).
const nodeScript = `
const [clientDir, exe, root, cache, tmp, path, mode] = process.argv.slice(2);
const { Client } = require(clientDir);
(async () => {
  const c = await Client.start({ binary: exe, args: ["--plugins-dir", root, "--cache-dir", cache, "--log-level", "error", "--temp-dir", tmp], noDefaultPlugins: true });
  const pid = (await c.listPlugins()).find((p) => p.name === "string_parser").id;
  const t = process.hrtime.bigint();
  const s = await c.openSession({ parser: pid, source: path });
  let n = 0;
  if (mode === "grab") {
    for (;;) {
      const rows = await c.grab(s, n, 10000);
      n += rows.length;
      if (rows.length === 0) {
        const u = c.sessionUpdate(s);
        if (u && u.state !== "running" && n >= u.rows) break;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } else {
    for await (const _ of c.stream(s, { window: 10000 })) n++;
  }
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  await c.shutdown();
  console.log(JSON.stringify({ secs, rows: n }));
})().catch((e) => { console.error(e); process.exit(1); });
`

func (b *bencher) clientRunner(ctx context.Context, lang, dir, root, file string, want uint64) ([]externalClient, error) {
	var interp, script, source string
	switch lang {
	case "python":
		interp, script, source = "python3", "bench_client.py", pythonScript
	case "node":
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "vscode-jsonrpc")); err != nil {
			return nil, fmt.Errorf("clients/node is not installed (run npm ci in %s)", dir)
		}
		interp, script, source = "node", "bench_client.js", nodeScript
	default:
		return nil, fmt.Errorf("no benchmark driver for the %s client", lang)
	}
	py, err := exec.LookPath(interp)
	if err != nil {
		return nil, err
	}
	tmp, _ := b.tempDir()
	script = filepath.Join(tmp, script)
	if err := os.WriteFile(script, []byte(source), 0o644); err != nil {
		return nil, err
	}
	size := uint64(0)
	if st, err := os.Stat(file); err == nil {
		size = uint64(st.Size())
	}
	mk := func(mode string) externalClient {
		return externalClient{name: lang + "-" + mode, run: func(ctx context.Context) (sample, error) {
			cmd := exec.CommandContext(ctx, py, script, dir, b.cfg.Exe, root, b.cacheDir, tmp, file, mode)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				return sample{}, fmt.Errorf("%v: %s", err, lastLines(errb.Bytes(), 5))
			}
			var r struct {
				Secs float64 `json:"secs"`
				Rows uint64  `json:"rows"`
			}
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				return sample{}, fmt.Errorf("%s output %q: %v", lang, out.String(), err)
			}
			if r.Rows < want {
				return sample{}, fmt.Errorf("%s read %d rows, want at least %d", lang, r.Rows, want)
			}
			return sample{secs: r.Secs, bytes: size, items: r.Rows}, nil
		}}
	}
	// Probe once so that a broken client is reported, not fatal.
	probe := mk("grab")
	if _, err := probe.run(ctx); err != nil {
		return nil, err
	}
	return []externalClient{probe, mk("stream")}, nil
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte{'\n'})
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte{'\n'}))
}
