package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The client drivers: scripts that time one session through the Python and
// the Node client (see their comments).
var (
	//go:embed scripts/client_bench.py
	pythonScript string
	//go:embed scripts/client_bench.js
	nodeScript string
)

func (b *bencher) clientRunner(ctx context.Context, lang, dir, root, file string, want uint64) ([]runner, error) {
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
	tmp := b.TempDir()
	script = filepath.Join(tmp, script)
	if err := os.WriteFile(script, []byte(source), 0o644); err != nil {
		return nil, err
	}
	size := uint64(0)
	if st, err := os.Stat(file); err == nil {
		size = uint64(st.Size())
	}
	mk := func(mode string) runner {
		return runner{Name: lang + "-" + mode, Run: func(ctx context.Context) (sample, error) {
			cmd := exec.CommandContext(ctx, py, script, dir, b.cfg.Exe, root, b.CacheDir, tmp, file, mode)
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
			return sample{Secs: r.Secs, Bytes: size, Items: r.Rows}, nil
		}}
	}
	// Probe once so that a broken client is reported, not fatal.
	probe := mk("grab")
	if _, err := probe.Run(ctx); err != nil {
		return nil, err
	}
	return []runner{probe, mk("stream")}, nil
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte{'\n'})
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte{'\n'}))
}
