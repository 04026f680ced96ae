package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chiphost/chiphost/runtime/internal/abi"
	"github.com/chiphost/chiphost/schema"
)

// Plugin is a loaded, compiled plugin and its metadata. Create instances
// with NewParser or NewSource; each has its own wasm instance.
type Plugin struct {
	Name          string     // file or directory name without .wasm
	Path          string     // path of the .wasm file
	Hash          string     // sha256 of the binary, hex
	Kind          PluginKind // parser or bytesource
	APIVersion    Version    // Chipmunk API version it was built for
	Version       Version    // the plugin's own version
	ConfigSchemas []schema.Item
	// RenderOptions is nil when the plugin declares no columns (and always
	// for byte sources). Parsers and producers declare them.
	RenderOptions *RenderOptions
	// Warnings lists metadata problems that Chipmunk tolerates and chiphost
	// repairs (see schema.NormalizeDefaults: a float default that is not a
	// finite number, a dropdown default that is not one of its options),
	// each naming the plugin and the config item. They are also logged at
	// warn level when the plugin is loaded.
	Warnings []string

	host *Host
	bin  []byte // the binary, for plugins loaded from memory

	mu sync.Mutex
	cp *compiledPlugin // compiled on first use when the metadata came from the cache
}

// compiled returns the compiled plugin, compiling it on first use. The file
// is read again and must still be the binary the metadata describes. The
// lock is not held while compiling: concurrent first uses meet in
// Host.compile, which compiles once and tells each caller's CompileTrace.
func (p *Plugin) compiled(ctx context.Context) (*compiledPlugin, error) {
	p.mu.Lock()
	cp, bin := p.cp, p.bin
	p.mu.Unlock()
	if cp != nil {
		return cp, nil
	}
	if bin == nil {
		b, err := os.ReadFile(p.Path)
		if err != nil {
			return nil, &Error{Kind: KindIO, Plugin: p.Name, Op: "load", Err: err}
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != p.Hash {
			return nil, &Error{Kind: KindIO, Plugin: p.Name, Op: "load", Err: fmt.Errorf("%s changed on disk since it was listed: load it again", p.Path)}
		}
		bin = b
	}
	cp, err := p.host.compile(ctx, p.Name, p.Hash, bin)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.cp = cp
	p.mu.Unlock()
	return cp, nil
}

// metadata is what a throw-away instance reports, plus the interface the
// binary exports; it is cached by hash.
type metadata struct {
	Export        string         `json:"export"` // first export, e.g. chipmunk:parser/parser@0.1.0
	Kind          PluginKind     `json:"kind"`
	Version       Version        `json:"version"`
	ConfigSchemas []schema.Item  `json:"configSchemas"`
	RenderOptions *RenderOptions `json:"renderOptions"`
	Warnings      []string       `json:"warnings,omitempty"`
}

// applyMetadata sets p's metadata. The warnings are cached without the
// plugin's name (the same binary may be loaded under several names) and get
// it here.
func (p *Plugin) applyMetadata(md *metadata) {
	p.Version = md.Version
	p.ConfigSchemas = md.ConfigSchemas
	p.RenderOptions = md.RenderOptions
	p.Warnings = nil
	for _, w := range md.Warnings {
		p.Warnings = append(p.Warnings, "plugin "+p.Name+": "+w)
	}
}

// Chipmunk's validation limits (plugins_manager/validator.rs).
const (
	maxSchemas        = 100
	maxIDBytes        = 1024
	maxTitleBytes     = 2048
	maxDescBytes      = 10240
	maxColumns        = 100
	maxCaptionBytes   = 2048
	maxColumnDescByte = 10240
)

// readMetadata calls get-version, get-render-options (parsers) and
// get-config-schemas on a throw-away instance, in Chipmunk's order, and
// validates the answers with Chipmunk's limits.
func (p *Plugin) readMetadata(ctx context.Context) (*metadata, error) {
	in, err := p.host.newInstance(ctx, p.cp, mounts{})
	if err != nil {
		return nil, err
	}
	defer in.Close()
	md := &metadata{}
	v, err := in.call(ctx, "get-version", nil)
	if err != nil {
		return nil, err
	}
	md.Version = Version{uint16(v.Elems[0].Num), uint16(v.Elems[1].Num), uint16(v.Elems[2].Num)}
	if p.Kind == Parser || p.Kind == Producer {
		v, err = in.call(ctx, "get-render-options", nil)
		if err != nil {
			return nil, err
		}
		md.RenderOptions = renderOptionsFrom(v)
	}
	v, err = in.call(ctx, "get-config-schemas", nil)
	if err != nil {
		return nil, err
	}
	md.ConfigSchemas = schemaItemsFrom(v)
	if err := md.validate(); err != nil {
		return nil, &Error{Kind: KindPluginError, Plugin: p.Name, Op: "get-config-schemas", Code: "invalid-metadata", Err: err}
	}
	return md, nil
}

func (md *metadata) validate() error {
	if n := len(md.ConfigSchemas); n > maxSchemas {
		return fmt.Errorf("%d config schemas, at most %d allowed", n, maxSchemas)
	}
	seen := map[string]bool{}
	for _, it := range md.ConfigSchemas {
		switch {
		case len(it.ID) > maxIDBytes:
			return fmt.Errorf("config id %.40q…: longer than %d bytes", it.ID, maxIDBytes)
		case seen[it.ID]:
			return fmt.Errorf("configuration ID %q is duplicated", it.ID)
		case len(it.Title) > maxTitleBytes:
			return fmt.Errorf("config %q: title longer than %d bytes", it.ID, maxTitleBytes)
		case it.Description != nil && len(*it.Description) > maxDescBytes:
			return fmt.Errorf("config %q: description longer than %d bytes", it.ID, maxDescBytes)
		}
		seen[it.ID] = true
	}
	for _, w := range schema.NormalizeDefaults(md.ConfigSchemas) {
		md.Warnings = append(md.Warnings, fmt.Sprintf("config %q: %s", w.Field, w.Message))
	}
	if ro := md.RenderOptions; ro != nil {
		if len(ro.Columns) > maxColumns {
			return fmt.Errorf("%d columns, at most %d allowed", len(ro.Columns), maxColumns)
		}
		for i, c := range ro.Columns {
			if len(c.Caption) > maxCaptionBytes {
				return fmt.Errorf("column %d: caption longer than %d bytes", i, maxCaptionBytes)
			}
			if len(c.Description) > maxColumnDescByte {
				return fmt.Errorf("column %d: description longer than %d bytes", i, maxColumnDescByte)
			}
		}
	}
	return nil
}

func renderOptionsFrom(v abi.Value) *RenderOptions {
	opt := v.Elems[0] // columns-options: option<columns-render-options>
	if opt.Num == 0 {
		return nil
	}
	cro := opt.Elems[0]
	ro := &RenderOptions{MinWidth: uint16(cro.Elems[1].Num), MaxWidth: uint16(cro.Elems[2].Num), Columns: []ColumnInfo{}}
	for _, c := range cro.Elems[0].Elems {
		ro.Columns = append(ro.Columns, ColumnInfo{Caption: strings.Clone(c.Elems[0].Str), Description: strings.Clone(c.Elems[1].Str), Width: int16(c.Elems[2].Num)})
	}
	return ro
}

func schemaItemsFrom(v abi.Value) []schema.Item {
	items := make([]schema.Item, 0, len(v.Elems))
	for _, e := range v.Elems {
		it := schema.Item{ID: strings.Clone(e.Elems[0].Str), Title: strings.Clone(e.Elems[1].Str)}
		if d := e.Elems[2]; d.Num == 1 {
			s := strings.Clone(d.Elems[0].Str)
			it.Description = &s
		}
		t := e.Elems[3]
		it.InputType.Type = schema.Kinds[t.Num]
		switch it.InputType.Type {
		case schema.Boolean:
			it.InputType.Default = t.Elems[0].Num != 0
		case schema.Integer:
			it.InputType.Default = int32(t.Elems[0].Num)
		case schema.Float:
			it.InputType.Default = math.Float32frombits(uint32(t.Elems[0].Num))
		case schema.Text:
			it.InputType.Default = strings.Clone(t.Elems[0].Str)
		case schema.Files:
			it.InputType.Extensions = stringsFrom(t.Elems[0])
		case schema.Dropdown:
			it.InputType.Options = stringsFrom(t.Elems[0].Elems[0])
			it.InputType.Default = strings.Clone(t.Elems[0].Elems[1].Str)
		}
		items = append(items, it)
	}
	return items
}

func stringsFrom(list abi.Value) []string {
	out := make([]string, len(list.Elems))
	for i, s := range list.Elems {
		out[i] = strings.Clone(s.Str)
	}
	return out
}

// InitOptions configure a new parser or source instance.
type InitOptions struct {
	// Config holds the values passed to the plugin's init, in order.
	// Relative paths in files/directories values are made absolute.
	Config []schema.Setting
	// LogLevel is the general log level handed to the plugin (default info).
	LogLevel *LogLevel
	// LogTag is copied into every LogRecord of the instance (LogRecord.Tag),
	// including the lines the plugin writes during init, before the caller
	// has the instance: a session id, for example.
	LogTag string
}

// prepareInit builds the init arguments and the file-system mounts the
// configuration grants.
func (p *Plugin) prepareInit(opts *InitOptions) ([]abi.Value, mounts, error) {
	var o InitOptions
	if opts != nil {
		o = *opts
	}
	level := LevelInfo
	if o.LogLevel != nil {
		level = *o.LogLevel
	}
	m := mounts{files: map[string][]string{}}
	items := make([]abi.Value, 0, len(o.Config))
	for _, s := range o.Config {
		v := s.Value
		var payload abi.Value
		disc := -1
		for i, k := range schema.Kinds {
			if k == v.Type {
				disc = i
			}
		}
		switch v.Type {
		case schema.Boolean:
			if v.Bool {
				payload.Num = 1
			}
		case schema.Integer:
			payload.Num = uint64(int64(v.Int))
		case schema.Float:
			payload.Num = uint64(math.Float32bits(v.Float))
		case schema.Text, schema.Dropdown:
			payload.Str = v.Text
		case schema.Files, schema.Directories:
			for _, path := range v.Paths {
				abs, err := filepath.Abs(path)
				if err != nil {
					return nil, m, &Error{Kind: KindConfig, Plugin: p.Name, Op: "init", Err: fmt.Errorf("config %q: %w", s.ID, err)}
				}
				payload.Elems = append(payload.Elems, abi.Value{Str: abs})
				if err := p.grant(&m, v.Type, abs); err != nil {
					return nil, m, &Error{Kind: KindConfig, Plugin: p.Name, Op: "init", Err: fmt.Errorf("config %q: %w", s.ID, err)}
				}
			}
		default:
			return nil, m, &Error{Kind: KindConfig, Plugin: p.Name, Op: "init", Err: fmt.Errorf("config %q: unknown value type %q", s.ID, v.Type)}
		}
		items = append(items, abi.Value{Elems: []abi.Value{{Str: s.ID}, {Num: uint64(disc), Elems: []abi.Value{payload}}}})
	}
	m.dropCoveredFiles()
	general := abi.Value{Elems: []abi.Value{{Num: uint64(level)}}}
	return []abi.Value{general, {Elems: items}}, m, nil
}

// grant records read access to a configured path: exactly that file or
// directory, or its parent directory in Chipmunk-compatible mode. A
// directory that holds chiphost's temporary root (every instance's scratch
// directory, the server's row stores) is never mounted: a configured one is
// a config error; a parent directory is replaced by the exact path, with a
// warning.
func (p *Plugin) grant(m *mounts, kind schema.InputKind, path string) error {
	if p.host.opts.ParentDirAccess {
		parent := filepath.Dir(path)
		if parent == path {
			return nil
		}
		if !p.host.holdsTempRoot(parent) {
			m.dirs = append(m.dirs, parent)
			return nil
		}
		p.host.log.Warn().Str("plugin", p.Name).Str("dir", parent).Str("path", path).Msg("the parent directory holds chiphost's temporary directories: granting only the configured path")
	}
	if kind == schema.Directories {
		if p.host.holdsTempRoot(path) {
			return fmt.Errorf("directory %s holds chiphost's temporary directory %s (other plugins' scratch files and session stores) and cannot be given to a plugin; name a directory inside it, or move chiphost's temporary directory (--temp-dir)", path, p.host.opts.TempRoot)
		}
		m.dirs = append(m.dirs, path)
		return nil
	}
	dir, name := filepath.Split(path)
	dir = filepath.Clean(dir)
	m.files[dir] = append(m.files[dir], name)
	return nil
}

// newInitialized creates an instance and calls init on it.
func (p *Plugin) newInitialized(ctx context.Context, kind PluginKind, opts *InitOptions) (*instance, error) {
	if p.Kind != kind {
		return nil, &Error{Kind: KindUnsupported, Plugin: p.Name, Op: "init", Err: fmt.Errorf("plugin is a %s, not a %s", p.Kind, kind)}
	}
	args, m, err := p.prepareInit(opts)
	if err != nil {
		return nil, err
	}
	cp, err := p.compiled(ctx)
	if err != nil {
		return nil, err
	}
	in, err := p.host.newInstance(ctx, cp, m)
	if err != nil {
		return nil, err
	}
	if opts != nil {
		in.logTag = opts.LogTag
	}
	res, err := in.call(ctx, "init", args)
	if err != nil {
		in.Close()
		return nil, err
	}
	if res.Num != 0 { // err(init-error)
		e := res.Elems[0]
		codes := [...]string{"config", "io", "unsupported", "other"}
		in.Close()
		return nil, &Error{Kind: KindPluginError, Plugin: p.Name, Op: "init", Code: codes[e.Num], Err: errors.New(strings.Clone(e.Elems[0].Str))}
	}
	return in, nil
}

// ParserInstance is a parser plugin instance (one per session).
//
// # Notes
//
//   - Calls are serialised; a ParserInstance is safe for concurrent use but
//     meant to be driven by one goroutine.
//   - After a trap, timeout, cancellation or ABI violation the instance is
//     closed and every later call fails with KindClosed.
type ParserInstance struct {
	in    *instance
	name  string
	parse *boundFunc
	itemBuffers
	args [2]abi.Value
	data [1]abi.Value
}

// itemBuffers hold the items of one call and what they point to, reused
// from call to call (parsers and producers).
type itemBuffers struct {
	items []Item
	msgs  []Message
	atts  []Attachment
	strs  []string
	nums  []uint64
}

// NewParser creates a parser instance and initialises it with opts.
func (p *Plugin) NewParser(ctx context.Context, opts *InitOptions) (*ParserInstance, error) {
	in, err := p.newInitialized(ctx, Parser, opts)
	if err != nil {
		return nil, err
	}
	return &ParserInstance{in: in, name: p.Name, parse: in.funcs["parse"]}, nil
}

// Parse calls the plugin's parse. The items, and all strings and bytes they
// reference, are valid only until the next call on this instance. A parse
// error the plugin reports is a *Error of KindPluginError with its case in
// Code ("parse", "incomplete", "eof", "unrecoverable"). Items that consume
// more than data in all are an error of KindABI (see CheckConsumed).
func (pi *ParserInstance) Parse(ctx context.Context, data []byte, timestamp *uint64) ([]Item, error) {
	pi.args[0] = abi.Value{Bytes: data}
	if timestamp != nil {
		pi.data[0] = abi.Value{Num: *timestamp}
		pi.args[1] = abi.Value{Num: 1, Elems: pi.data[:]}
	} else {
		pi.args[1] = abi.Value{}
	}
	res, err := pi.in.callFunc(ctx, "parse", pi.parse, pi.args[:])
	if err != nil {
		return nil, err
	}
	if res.Num != 0 {
		e := res.Elems[0]
		codes := [...]string{"unrecoverable", "parse", "incomplete", "eof"}
		pe := &Error{Kind: KindPluginError, Plugin: pi.name, Op: "parse", Code: codes[e.Num]}
		if len(e.Elems) > 0 {
			pe.Err = errors.New(strings.Clone(e.Elems[0].Str))
		}
		return nil, pe
	}
	items := pi.convert(res.Elems[0].Elems)
	if _, err := CheckConsumed(items, len(data)); err != nil {
		return nil, &Error{Kind: KindABI, Plugin: pi.name, Op: "parse", Err: err}
	}
	return items, nil
}

// convert converts lifted parse-return records without allocating per item.
func (pi *itemBuffers) convert(list []abi.Value) []Item {
	var nmsg, natt, nstr, nnum int
	for i := range list {
		y := list[i].Elems[0]
		if y.Num == 0 {
			continue
		}
		msg, att := yieldParts(y.Elems[0])
		if msg != nil {
			nmsg++
			if msg.Num == 1 {
				nstr += len(msg.Elems[0].Elems)
			}
		}
		if att != nil {
			natt++
			nnum += len(att.Elems[4].Elems)
		}
	}
	pi.items = grow(pi.items, len(list))
	pi.msgs = grow(pi.msgs, nmsg)
	pi.atts = grow(pi.atts, natt)
	pi.strs = grow(pi.strs, nstr)
	pi.nums = grow(pi.nums, nnum)
	var im, ia, is, inum int
	for i := range list {
		r := list[i]
		it := &pi.items[i]
		*it = Item{Consumed: r.Elems[1].Num}
		if r.Elems[0].Num == 0 {
			continue
		}
		msg, att := yieldParts(r.Elems[0].Elems[0])
		if msg != nil {
			m := &pi.msgs[im]
			im++
			if msg.Num == 0 {
				*m = Message{Line: msg.Elems[0].Str}
			} else {
				cols := msg.Elems[0].Elems
				start := is
				for _, c := range cols {
					pi.strs[is] = c.Str
					is++
				}
				*m = Message{Columns: pi.strs[start:is:is]}
			}
			it.Message = m
		}
		if att != nil {
			a := &pi.atts[ia]
			ia++
			f := att.Elems
			start := inum
			for _, n := range f[4].Elems {
				pi.nums[inum] = n.Num
				inum++
			}
			*a = Attachment{Name: f[0].Str, Size: f[1].Num, CreatedDate: optString(f[2]), ModifiedDate: optString(f[3]), Messages: pi.nums[start:inum:inum], Data: f[5].Bytes}
			it.Attachment = a
		}
	}
	return pi.items
}

// yieldParts splits a parse-yield into its message and attachment.
func yieldParts(y abi.Value) (msg, att *abi.Value) {
	switch y.Num {
	case 0:
		return &y.Elems[0], nil
	case 1:
		return nil, &y.Elems[0]
	default:
		t := y.Elems[0]
		return &t.Elems[0], &t.Elems[1]
	}
}

func optString(v abi.Value) *string {
	if v.Num == 0 {
		return nil
	}
	s := v.Elems[0].Str
	return &s
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// Close discards the instance and its temporary directory.
func (pi *ParserInstance) Close() { pi.in.Close() }

// SourceInstance is a byte-source plugin instance.
type SourceInstance struct {
	in   *instance
	name string
	args [1]abi.Value
}

// NewSource creates a byte-source instance and initialises it with opts.
func (p *Plugin) NewSource(ctx context.Context, opts *InitOptions) (*SourceInstance, error) {
	in, err := p.newInitialized(ctx, ByteSource, opts)
	if err != nil {
		return nil, err
	}
	return &SourceInstance{in: in, name: p.Name}, nil
}

// Read asks the plugin for at most max bytes and appends them to buf. An
// empty answer means no data or the end of the input (as in Chipmunk). A
// plugin that returns more than max bytes breaks the contract: KindABI.
func (si *SourceInstance) Read(ctx context.Context, buf []byte, max int) ([]byte, error) {
	si.args[0] = abi.Value{Num: uint64(max)}
	res, err := si.in.call(ctx, "read", si.args[:])
	if err != nil {
		return buf, err
	}
	if res.Num != 0 {
		e := res.Elems[0]
		codes := [...]string{"io", "unsupported", "other"}
		return buf, &Error{Kind: KindPluginError, Plugin: si.name, Op: "read", Code: codes[e.Num], Err: errors.New(strings.Clone(e.Elems[0].Str))}
	}
	b := res.Elems[0].Bytes
	if len(b) > max {
		si.in.Close()
		return buf, &Error{Kind: KindABI, Plugin: si.name, Op: "read", Err: fmt.Errorf("returned %d bytes, more than the %d requested", len(b), max)}
	}
	return append(buf, b...), nil
}

// Close discards the instance and its temporary directory.
func (si *SourceInstance) Close() { si.in.Close() }

// ID returns the instance id, unique within the Host; log records carry it
// (LogRecord.Instance).
func (pi *ParserInstance) ID() uint64 { return pi.in.id }

// ID returns the instance id, unique within the Host; log records carry it
// (LogRecord.Instance).
func (si *SourceInstance) ID() uint64 { return si.in.id }
