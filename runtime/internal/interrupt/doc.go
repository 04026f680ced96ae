// Package interrupt rewrites core WebAssembly modules so a host can stop a running call cheaply.
//
// wazero can only stop a running guest call through
// RuntimeConfig.WithCloseOnContextDone(true), which costs 4–14× on real workloads
// (see shared/design/perf-anchors.md §3.3). This package takes the other route: before a
// core module is compiled, [Instrument] appends one mutable i32 global, exports it as
// [ExportName], and puts this check at the start of every loop body:
//
//	global.get $interrupt
//	if
//	  unreachable
//	end
//
// Every iteration of every loop re-enters the loop body, so a guest that runs forever
// passes a check over and over. To stop it, the host sets the global to a non-zero value
// from any goroutine; the next check traps with wazero's "unreachable" error. The host
// knows that it set the flag, so it reports a timeout or a cancellation instead of a
// plugin fault, and then discards the instance: the trap may have left guest state
// half-updated.
//
// Usage:
//
//	bin, stats, err := interrupt.Instrument(core)
//	mod, err := rt.InstantiateWithConfig(ctx, bin, cfg.WithStartFunctions())
//	flag := mod.ExportedGlobal(interrupt.ExportName).(api.MutableGlobal)
//	stop := context.AfterFunc(ctx, func() { flag.Set(1) })
//	defer stop()
//
// Only loop headers are rewritten. Every other section is kept byte for byte, and the new
// global goes at the end of the global index space, so no existing index changes. The
// function body decoder knows the MVP instruction set and the sign-extension,
// non-trapping float-to-int, bulk-memory, reference-types, multi-value, SIMD (with
// relaxed SIMD), threads, tail-call, typed function references, multi-memory, memory64
// and exception-handling (final and legacy) encodings. It rejects anything else, such
// as GC instructions, with an error naming the function, the opcode and its offset.
//
// What the check does not cover: code that never loops cannot run for long, except
// through recursion (each call costs stack, and wazero bounds the stack, but a
// recursion tree can still take exponential time); a start function runs inside
// instantiation, before the host can reach the global; and a blocking host function
// is the host's own business.
//
// This package imports only the standard library. It must not import wazero (only its
// tests do) or any other chiphost package.
package interrupt
