package component

import "github.com/chiphost/chiphost/runtime/internal/wasmbin"

// A test-only encoder that assembles components in the shape wit-component
// emits (main module, adapter, shim, fixup, lifts with options, nested shim
// component, export), with switches for every rejection path.

// Core export kinds used by the tests.
const (
	kindFunc   = wasmbin.KindFunc
	kindTable  = wasmbin.KindTable
	kindMemory = wasmbin.KindMemory
)

func u32(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func str(s string) []byte             { return cat(u32(uint32(len(s))), []byte(s)) }
func xname(s string) []byte           { return cat([]byte{0x00}, str(s)) } // importname'/exportname'
func sec(id byte, body []byte) []byte { return cat([]byte{id}, u32(uint32(len(body))), body) }

func vec(items ...[]byte) []byte { return cat(u32(uint32(len(items))), cat(items...)) }

var (
	componentPreamble = []byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}
	corePreamble      = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
)

// coreSpec describes a small core module.
type coreSpec struct {
	imports  [][3]string // module, name, kind ("func", "table", "memory")
	memories []byte      // limits flags per defined memory
	tables   int
	bodies   [][]byte
	exports  []coreExport
	elem     bool
	start    int // -1 none
	name     string
}

var (
	plainBody = []byte{0x00, 0x0b}                                           // no locals, end
	stubBody  = []byte{0x00, 0x20, 0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x0b} // local.get 0; i32.const 0; call_indirect; end
)

func (c coreSpec) bytes() []byte {
	b := append([]byte{}, corePreamble...)
	b = append(b, sec(wasmbin.SecType, vec([]byte{0x60, 0x00, 0x00}))...) // one type: () -> ()
	if len(c.imports) > 0 {
		var items [][]byte
		for _, im := range c.imports {
			var desc []byte
			switch im[2] {
			case "func":
				desc = []byte{0x00, 0x00}
			case "table":
				desc = []byte{0x01, 0x70, 0x00, 0x01}
			case "memory":
				desc = []byte{0x02, 0x00, 0x01}
			}
			items = append(items, cat(str(im[0]), str(im[1]), desc))
		}
		b = append(b, sec(wasmbin.SecImport, vec(items...))...)
	}
	if len(c.bodies) > 0 {
		var items [][]byte
		for range c.bodies {
			items = append(items, []byte{0x00})
		}
		b = append(b, sec(wasmbin.SecFunction, vec(items...))...)
	}
	if c.tables > 0 {
		var items [][]byte
		for i := 0; i < c.tables; i++ {
			items = append(items, []byte{0x70, 0x00, 0x02})
		}
		b = append(b, sec(wasmbin.SecTable, vec(items...))...)
	}
	if len(c.memories) > 0 {
		var items [][]byte
		for _, f := range c.memories {
			items = append(items, []byte{f, 0x01})
		}
		b = append(b, sec(wasmbin.SecMemory, vec(items...))...)
	}
	if len(c.exports) > 0 {
		var items [][]byte
		for _, e := range c.exports {
			items = append(items, cat(str(e.name), []byte{e.kind}, u32(e.idx)))
		}
		b = append(b, sec(wasmbin.SecExport, vec(items...))...)
	}
	if c.start >= 0 {
		b = append(b, sec(wasmbin.SecStart, u32(uint32(c.start)))...)
	}
	if c.elem {
		// active segment, table 0, offset i32.const 0, funcs [0 1]
		b = append(b, sec(wasmbin.SecElement, vec([]byte{0x00, 0x41, 0x00, 0x0b, 0x02, 0x00, 0x01}))...)
	}
	if len(c.bodies) > 0 {
		var items [][]byte
		for _, body := range c.bodies {
			items = append(items, cat(u32(uint32(len(body))), body))
		}
		b = append(b, sec(wasmbin.SecCode, vec(items...))...)
	}
	if c.name != "" {
		b = append(b, sec(wasmbin.SecCustom, cat(str("name"), sec(wasmbin.NameSubModule, str(c.name))))...)
	}
	return b
}

// compSpec switches the test component away from the wit-component shape.
type compSpec struct {
	mainMem64        bool
	mainTwoMems      bool
	mainExtraImports [][3]string
	secondCode       bool // a fifth module with code, instantiated on its own
	liftOther        bool // get-version is lifted from the fifth module
	extraCanon       []byte
	liftOpts         []byte // extra canon options for the parse lift
	lowerOpts        []byte // extra canon options for the log lower
	ownInExport      bool
	start            bool
	nestedWithCore   bool
	p2Import         bool // a wasi:random/random import instance
	synthetic        bool // export a synthetic instance instead of the nested shim component
}

const (
	ifaceParser  = "chipmunk:parser/parser@0.1.0"
	ifaceLogging = "chipmunk:shared/logging@0.1.0"
)

// loggingType is the instance type of chipmunk:shared/logging.
func loggingType() []byte {
	return cat([]byte{0x42}, vec(
		cat([]byte{0x01}, []byte{0x6d}, vec(str("error"), str("warn"), str("info"))),                                     // local t0: enum
		cat([]byte{0x04}, xname("level"), []byte{0x03, 0x00, 0x00}),                                                      // export level (eq 0) -> t1
		cat([]byte{0x01, 0x40}, vec(cat(str("level"), []byte{0x01}), cat(str("msg"), []byte{0x73})), []byte{0x01, 0x00}), // t2: func
		cat([]byte{0x04}, xname("log"), []byte{0x01, 0x02}),
	))
}

// composedSpec describes a composed component as wac plug makes one of a
// single plugin: an outer component that imports chipmunk:shared/logging
// under outerImport, holds inner as nested component 0, instantiates it
// instances times passing the import on under argName (no argument when
// argName is ""), and exports instance 0's parser instance as exportAs.
type composedSpec struct {
	inner                          []byte
	outerImport, argName, exportAs string
	instances                      int
}

func (c composedSpec) bytes() []byte {
	b := cat(componentPreamble, sec(wasmbin.CompSecType, vec(loggingType())))
	b = append(b, sec(wasmbin.CompSecImport, vec(cat(xname(c.outerImport), []byte{0x05, 0x00})))...) // instance 0
	b = append(b, sec(wasmbin.CompSecComponent, c.inner)...)                                         // component 0
	var args [][]byte
	if c.argName != "" {
		args = append(args, cat(str(c.argName), []byte{0x05, 0x00}))
	}
	var insts [][]byte
	for i := 0; i < c.instances; i++ {
		insts = append(insts, cat([]byte{0x00, 0x00}, vec(args...))) // instances 1..
	}
	b = append(b, sec(wasmbin.CompSecInstance, vec(insts...))...)
	alias := cat([]byte{0x05, 0x00}, u32(1), str(ifaceParser)) // instance 1+instances
	b = append(b, sec(wasmbin.CompSecAlias, vec(alias))...)
	return append(b, sec(wasmbin.CompSecExport, vec(cat(xname(c.exportAs), []byte{0x05}, u32(uint32(1+c.instances)), []byte{0x00})))...)
}

func (s compSpec) bytes() []byte {
	b := append([]byte{}, componentPreamble...)
	// Type 0: instance type of chipmunk:shared/logging.
	types := [][]byte{loggingType()}
	if s.p2Import {
		// Type 1: wasi:random/random instance type.
		types = append(types, cat([]byte{0x42}, vec(
			cat([]byte{0x01, 0x70, 0x7d}),
			cat([]byte{0x01, 0x40}, vec(cat(str("len"), []byte{0x77})), []byte{0x00, 0x00}),
			cat([]byte{0x04}, xname("get-random-bytes"), []byte{0x01, 0x01}),
		)))
	}
	b = append(b, sec(wasmbin.CompSecType, vec(types...))...)
	imports := [][]byte{cat(xname(ifaceLogging), []byte{0x05, 0x00})}
	if s.p2Import {
		imports = append(imports, cat(xname("wasi:random/random@0.2.3"), []byte{0x05, 0x01}))
	}
	b = append(b, sec(wasmbin.CompSecImport, vec(imports...))...) // instance 0 (and 1)
	nt := uint32(len(types))
	// Value and function types: version, get-version, list<u8>, option<u64>, result, parse.
	tVersion, tGetVersion, tParse := nt, nt+1, nt+5
	vt := [][]byte{
		cat([]byte{0x72}, vec(cat(str("major"), []byte{0x7b}), cat(str("minor"), []byte{0x7b}), cat(str("patch"), []byte{0x7b}))),
		cat([]byte{0x40, 0x00, 0x00}, u32(tVersion)),
		{0x70, 0x7d},
		{0x6b, 0x77},
		cat([]byte{0x6a, 0x01}, u32(nt+2), []byte{0x01, 0x73}),
		cat([]byte{0x40}, vec(cat(str("data"), u32(nt+2)), cat(str("timestamp"), u32(nt+3))), []byte{0x00}, u32(nt+4)),
	}
	if s.ownInExport {
		vt = append(vt, []byte{0x3f, 0x7f, 0x00}, cat([]byte{0x69}, u32(nt+6)),
			cat([]byte{0x40}, vec(cat(str("data"), u32(nt+7))), []byte{0x00, 0x79}))
		tParse = nt + 8
	}
	b = append(b, sec(wasmbin.CompSecType, vec(vt...))...)

	mainImports := [][3]string{{"wasi_snapshot_preview1", "fd_write", "func"}, {ifaceLogging, "log", "func"}}
	mainImports = append(mainImports, s.mainExtraImports...)
	mems := []byte{0x00}
	if s.mainMem64 {
		mems = []byte{0x04}
	}
	if s.mainTwoMems {
		mems = []byte{0x00, 0x00}
	}
	nimp := uint32(0)
	for _, im := range mainImports {
		if im[2] == "func" {
			nimp++
		}
	}
	main := coreSpec{
		imports:  mainImports,
		memories: mems,
		bodies:   [][]byte{plainBody, plainBody, plainBody, plainBody, plainBody},
		exports: []coreExport{
			{"memory", kindMemory, 0},
			{ifaceParser + "#get-version", kindFunc, nimp},
			{ifaceParser + "#parse", kindFunc, nimp + 1},
			{"cabi_post_" + ifaceParser + "#parse", kindFunc, nimp + 2},
			{"cabi_realloc", kindFunc, nimp + 3},
			{"_initialize", kindFunc, nimp + 4},
		},
		start: -1,
	}
	adapter := coreSpec{
		imports: [][3]string{{"env", "memory", "memory"}, {"__main_module__", "cabi_realloc", "func"}},
		bodies:  [][]byte{plainBody},
		exports: []coreExport{{"fd_write", kindFunc, 1}},
		start:   -1,
		name:    "wit-component:adapter:wasi_snapshot_preview1",
	}
	shim := coreSpec{
		tables:  1,
		bodies:  [][]byte{stubBody, stubBody},
		exports: []coreExport{{"0", kindFunc, 0}, {"1", kindFunc, 1}, {"$imports", kindTable, 0}},
		start:   -1,
	}
	fixup := coreSpec{
		imports: [][3]string{{"", "0", "func"}, {"", "1", "func"}, {"", "$imports", "table"}},
		elem:    true,
		start:   -1,
	}
	b = append(b, sec(wasmbin.CompSecCoreModule, main.bytes())...)
	b = append(b, sec(wasmbin.CompSecCoreModule, adapter.bytes())...)
	b = append(b, sec(wasmbin.CompSecCoreModule, shim.bytes())...)
	b = append(b, sec(wasmbin.CompSecCoreModule, fixup.bytes())...)
	if s.secondCode || s.liftOther {
		other := coreSpec{memories: []byte{0x00}, bodies: [][]byte{plainBody},
			exports: []coreExport{{"memory", kindMemory, 0}, {"other", kindFunc, 0}}, start: -1}
		b = append(b, sec(wasmbin.CompSecCoreModule, other.bytes())...) // module 4
	}

	coreInst := func(items ...[]byte) []byte { return sec(wasmbin.CompSecCoreInstance, vec(items...)) }
	instantiate := func(m uint32, args ...[]byte) []byte { return cat([]byte{0x00}, u32(m), vec(args...)) }
	arg := func(n string, i uint32) []byte { return cat(str(n), []byte{0x12}, u32(i)) }
	fromExports := func(items ...[]byte) []byte { return cat([]byte{0x01}, vec(items...)) }
	exp := func(n string, sort byte, i uint32) []byte { return cat(str(n), []byte{sort}, u32(i)) }
	alias := func(items ...[]byte) []byte { return sec(wasmbin.CompSecAlias, vec(items...)) }
	coreAlias := func(sort byte, inst uint32, n string) []byte { return cat([]byte{0x00, sort, 0x01}, u32(inst), str(n)) }

	b = append(b, coreInst(instantiate(2))...)                                // ci0 shim
	b = append(b, alias(coreAlias(0x00, 0, "0"), coreAlias(0x00, 0, "1"))...) // cf0 cf1
	b = append(b, coreInst(fromExports(exp("fd_write", 0x00, 0)), fromExports(exp("log", 0x00, 1)),
		instantiate(0, arg("wasi_snapshot_preview1", 1), arg(ifaceLogging, 2)))...) // ci1 ci2 ci3(main)
	b = append(b, alias(coreAlias(0x02, 3, "memory"), coreAlias(0x00, 3, "cabi_realloc"))...) // cm0 cf2
	b = append(b, coreInst(fromExports(exp("memory", 0x02, 0)), fromExports(exp("cabi_realloc", 0x00, 2)),
		instantiate(1, arg("env", 4), arg("__main_module__", 5)))...) // ci4 ci5 ci6(adapter)
	b = append(b, alias(coreAlias(0x00, 6, "fd_write"), // cf3
		cat([]byte{0x01, 0x00, 0x00}, str("log")), // f0 = alias export instance 0 "log"
		coreAlias(0x01, 0, "$imports"))...)        // table 0
	lowerOpts := append([][]byte{{0x03, 0x00}}, splitOpts(s.lowerOpts)...)
	b = append(b, sec(wasmbin.CompSecCanon, vec(cat([]byte{0x01, 0x00, 0x00}, vec(lowerOpts...))))...) // cf4 = lower f0 (memory 0)
	b = append(b, coreInst(fromExports(exp("0", 0x00, 3), exp("1", 0x00, 4), exp("$imports", 0x01, 0)),
		instantiate(3, arg("", 7)))...) // ci7 ci8(fixup)
	nextCI := uint32(9)
	if s.secondCode || s.liftOther {
		b = append(b, coreInst(instantiate(4))...) // ci9
		nextCI++
	}
	_ = nextCI
	b = append(b, alias(coreAlias(0x00, 3, ifaceParser+"#get-version"), // cf5
		coreAlias(0x00, 3, ifaceParser+"#parse"),                  // cf6
		coreAlias(0x00, 3, "cabi_post_"+ifaceParser+"#parse"))...) // cf7
	getVersionFunc := uint32(5)
	if s.liftOther {
		b = append(b, alias(coreAlias(0x00, 9, "other"))...) // cf8
		getVersionFunc = 8
	}
	parseOpts := [][]byte{{0x03, 0x00}, {0x04, 0x02}, {0x05, 0x07}}
	extra := splitOpts(s.liftOpts)
	if len(extra) == 0 || extra[0][0] > 0x02 { // no encoding given: utf8
		parseOpts = append(parseOpts, []byte{0x00})
	}
	parseOpts = append(parseOpts, extra...)
	canons := [][]byte{
		cat([]byte{0x00, 0x00}, u32(getVersionFunc), vec([]byte{0x03, 0x00}), u32(tGetVersion)), // f1
		cat([]byte{0x00, 0x00, 0x06}, vec(parseOpts...), u32(tParse)),                           // f2
	}
	if s.extraCanon != nil {
		canons = append(canons, s.extraCanon)
	}
	b = append(b, sec(wasmbin.CompSecCanon, vec(canons...))...)
	if s.start {
		b = append(b, sec(wasmbin.CompSecStart, cat(u32(1), vec(), u32(0)))...)
	}
	if s.synthetic {
		b = append(b, sec(wasmbin.CompSecInstance, vec(cat([]byte{0x01}, vec(cat(xname("get-version"), []byte{0x01}, u32(1)), cat(xname("parse"), []byte{0x01}, u32(2))))))...)
	} else {
		// Nested shim component: imports the lifted functions, re-exports them.
		nested := append([]byte{}, componentPreamble...)
		nested = append(nested, sec(wasmbin.CompSecType, vec([]byte{0x40, 0x00, 0x00, 0x79}))...)
		nested = append(nested, sec(wasmbin.CompSecImport, vec(cat(xname("import-func-get-version"), []byte{0x01, 0x00}),
			cat(xname("import-func-parse"), []byte{0x01, 0x00})))...)
		nested = append(nested, sec(wasmbin.CompSecExport, vec(cat(xname("get-version"), []byte{0x01, 0x00, 0x00}),
			cat(xname("parse"), []byte{0x01, 0x01, 0x01, 0x01, 0x00})))...)
		b = append(b, sec(wasmbin.CompSecComponent, nested)...)
		if s.nestedWithCore {
			inner := cat(componentPreamble, sec(wasmbin.CompSecCoreModule, coreSpec{start: -1, bodies: [][]byte{plainBody}}.bytes()))
			b = append(b, sec(wasmbin.CompSecComponent, inner)...)
		}
		b = append(b, sec(wasmbin.CompSecInstance, vec(cat([]byte{0x00, 0x00}, vec(
			cat(str("import-func-get-version"), []byte{0x01, 0x01}),
			cat(str("import-func-parse"), []byte{0x01, 0x02}),
		))))...)
	}
	instIdx := uint32(1)
	if s.p2Import {
		instIdx = 2
	}
	b = append(b, sec(wasmbin.CompSecExport, vec(cat(xname(ifaceParser), []byte{0x05}, u32(instIdx), []byte{0x00})))...)
	return b
}

// splitOpts turns raw option bytes into one vec item each (an option with
// an immediate is given as two bytes).
func splitOpts(raw []byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case 0x03, 0x04, 0x05, 0x07:
			if i+1 < len(raw) {
				out = append(out, raw[i:i+2])
				i++
				continue
			}
		}
		out = append(out, raw[i:i+1])
	}
	return out
}
