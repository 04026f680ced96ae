package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chiphost/chiphost/internal/benchkit"
	"github.com/chiphost/chiphost/internal/rowjson"
	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// makeRoot lays out a Chipmunk plugin root in dir: parsers/<name>/ with a
// copy of the fixture's wasm and a toml, for each name → fixture path.
func makeRoot(dir string, plugins map[string]string) error {
	for name, src := range plugins {
		d := filepath.Join(dir, "parsers", name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		bin, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, name+".wasm"), bin, 0o644); err != nil {
			return err
		}
		toml := fmt.Sprintf("title = %q\ndescription = \"benchmark copy of %s\"\n", name, filepath.Base(src))
		if err := os.WriteFile(filepath.Join(d, name+".toml"), []byte(toml), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// server spawns chiphost serve over root and returns it initialised with
// the id of the plugin named name.
func (b *bencher) server(ctx context.Context, root, name string) (*goReader, string, error) {
	return b.serverWith(ctx, root, name, nil)
}

// serverWith is server with extra open files for the child (its
// descriptors 3 and on) and extra arguments.
func (b *bencher) serverWith(ctx context.Context, root, name string, extra []*os.File, args ...string) (*goReader, string, error) {
	if b.cfg.Exe == "" {
		return nil, "", fmt.Errorf("no chiphost binary (Config.Exe)")
	}
	dir := b.TempDir()
	args = append([]string{"--no-default-plugins", "--plugins-dir", root, "--cache-dir", b.CacheDir, "--log-level", "error", "--temp-dir", dir}, args...)
	c, err := startServerWith(ctx, b.cfg.Exe, extra, args...)
	if err != nil {
		return nil, "", err
	}
	list, err := c.initialize(ctx)
	if err != nil {
		c.close()
		return nil, "", err
	}
	for _, p := range list.Plugins {
		if p.Name == name && p.State == "valid" {
			return c, p.ID, nil
		}
	}
	c.close()
	return nil, "", fmt.Errorf("plugin %s not listed by the server", name)
}

// serverRun opens a session on file and reads every row (grab or stream).
func serverRun(c *goReader, id, file string, size, want uint64, stream bool) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return benchkit.Timed(func() (sample, error) {
			sess, err := c.open(ctx, file, id)
			if err != nil {
				return sample{}, err
			}
			var n uint64
			if stream {
				n, err = c.streamAll(ctx, sess)
			} else {
				n, err = c.grabAll(ctx, sess)
			}
			if err == nil && n < want { // string_parser also splits lines at window ends
				err = fmt.Errorf("%d rows, want at least %d", n, want)
			}
			if cerr := c.closeSession(ctx, sess); err == nil {
				err = cerr
			}
			return sample{Bytes: size, Items: n}, err
		})
	}
}

// pipelineRun is the server's data path without the server: parse, encode
// each row as JSON into 1000-row batches, hand them to a second goroutine
// that writes them out (to io.Discard).
func pipelineRun(p driver.Parser, input []byte) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		return benchkit.Timed(func() (sample, error) {
			batches := make(chan []byte, 4)
			free := make(chan []byte, 6)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for b := range batches {
					io.Discard.Write(b)
					select {
					case free <- b[:0]:
					default:
					}
				}
			}()
			var buf []byte
			n := 0
			flush := func() {
				batches <- buf
				select {
				case buf = <-free:
				default:
					buf = make([]byte, 0, 256<<10)
				}
				n = 0
			}
			buf = make([]byte, 0, 256<<10)
			st, err := driver.Run(ctx, &driver.ReaderSource{R: bytes.NewReader(input)}, p, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
				for _, r := range rows {
					buf = appendRow(buf, r)
					if n++; n == 1000 {
						flush()
					}
				}
				return nil
			}), nil)
			if n > 0 {
				flush()
			}
			close(batches)
			<-done
			return sample{Bytes: uint64(len(input)), Items: st.Items, Calls: st.Calls}, err
		})
	}
}

// appendRow encodes a row as the server and the CLI do, plus a separator.
func appendRow(b []byte, r driver.Row) []byte {
	return append(rowjson.AppendRow(b, r.Index, r.Item, ""), ',')
}

func (b *bencher) e2eSection(ctx context.Context) error {
	runs := b.Runs()
	dir := b.TempDir()
	input := GenLog(b.Size(32<<20, 1<<20))
	file := filepath.Join(dir, "e2e.log")
	if err := os.WriteFile(file, input, 0o644); err != nil {
		return err
	}
	defer os.Remove(file)
	h, err := b.Host(ctx, runtime.Options{})
	if err != nil {
		return err
	}
	c, err := b.NewParser(ctx, h, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	c2, err := b.NewParser(ctx, h, b.cfg.fixture(fxString), nil)
	if err != nil {
		return err
	}
	want := uint64(bytes.Count(input, []byte{'\n'}))
	root := filepath.Join(dir, "root-e2e")
	if err := makeRoot(root, map[string]string{"string_parser": b.cfg.fixture(fxString)}); err != nil {
		return err
	}
	rs := []runner{
		{Name: "in-process", Run: benchkit.ParseRun(c, input, benchkit.ReadSink())},
		{Name: "pipeline-native", Run: pipelineRun(&stringparser.Parser{}, input)},
		{Name: "pipeline-wasm", Run: pipelineRun(c2, input)},
	}
	srv, id, err := b.server(ctx, root, "string_parser")
	if err != nil {
		b.Skip(2, "server: "+err.Error())
	} else {
		defer srv.close()
		rs = append(rs,
			runner{Name: "server-grab", Run: serverRun(srv, id, file, uint64(len(input)), want, false)},
			runner{Name: "server-stream", Run: serverRun(srv, id, file, uint64(len(input)), want, true)})
	}
	rs = append(rs, b.externalClients(ctx, root, file, want)...)
	ss, err := b.Interleave(ctx, runs, rs)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("%d MB generated log, C string_parser", len(input)>>20)
	in := b.Figure(2, "in-process parse (driver.Run, column-reading sink)", "MB/s", benchkit.Map(ss[0], sample.MBps), note)
	pn := b.Figure(2, "in-process pipeline, native Go parser: parse → JSON rows → 2nd goroutine", "MB/s", benchkit.Map(ss[1], sample.MBps), "the server's data path without the server")
	pw := b.Figure(2, "in-process pipeline, C wasm parser", "MB/s", benchkit.Map(ss[2], sample.MBps), "")
	b.Ratio(2, "pipeline wasm / pipeline native", pw, pn, "≥ 0.75", "probe: 0.60")
	for i := 3; i < len(rs); i++ {
		v := b.Figure(2, "through chiphost serve: "+rs[i].Name, "MB/s", benchkit.Map(ss[i], sample.MBps), "session open → last row decoded by the client")
		b.Figure(2, "through chiphost serve: "+rs[i].Name, "rows/s", benchkit.Map(ss[i], sample.ItemsPerSec), "")
		target := ""
		if rs[i].Name == "server-stream" {
			target = "≥ 0.6"
		}
		b.Ratio(2, rs[i].Name+" / in-process parse", v, in, target, "")
	}
	return nil
}

// externalClients finds the Python and Node clients in the repository, when
// they exist and have a benchmark entry point.
func (b *bencher) externalClients(ctx context.Context, root, file string, want uint64) []runner {
	repo, err := filepath.Abs(filepath.Dir(filepath.Dir(b.cfg.Fixtures)))
	if err != nil {
		b.Skip(2, "clients: "+err.Error())
		return nil
	}
	var out []runner
	for _, lang := range []string{"python", "node"} {
		d := filepath.Join(repo, "clients", lang)
		if _, err := os.Stat(d); err != nil {
			b.Skip(2, lang+" client: clients/"+lang+" does not exist")
			continue
		}
		ec, err := b.clientRunner(ctx, lang, d, root, file, want)
		if err != nil {
			b.Skip(2, lang+" client: "+err.Error())
			continue
		}
		out = append(out, ec...)
	}
	return out
}
