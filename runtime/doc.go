// Package runtime runs Chipmunk parser and byte-source plugins (WebAssembly
// components built for the chipmunk:parser/parse@0.1.0 and
// chipmunk:bytesource/bytesource@0.1.0 worlds) on wazero.
//
// A [Host] discovers and loads plugins, compiles them once (with an on-disk
// compilation cache) and caches their metadata by content hash. A [Plugin]
// creates sandboxed instances, a [ParserInstance] or a [SourceInstance],
// each with its own wasm instance, memory cap, per-call deadline and
// temporary directory.
//
//	host, _ := runtime.NewHost(ctx, &runtime.Options{})
//	defer host.Close(ctx)
//	p, _ := host.Load(ctx, "string_parser.wasm")
//	parser, _ := p.NewParser(ctx, &runtime.InitOptions{Config: settings})
//	items, _ := parser.Parse(ctx, data, nil)
//
// The component layer (binary decoding, canonical ABI) lives in
// runtime/internal; this package wires it to wazero, WASI and the host
// imports chipmunk:shared/logging and chipmunk:shared/sandbox.
//
// This package knows nothing of JSON-RPC: it must not import rpc or any
// protocol package.
package runtime
