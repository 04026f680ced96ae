// Package interrupt rewrites core WebAssembly modules so a host can stop a running call cheaply.
//
// wazero can only stop a running guest call through
// RuntimeConfig.WithCloseOnContextDone(true), which slows real workloads down several
// times (docs/design.md has the measurements). This package takes the other route:
// before a core module is compiled, [Instrument] adds an interrupt flag, a mutable i32
// global exported as [ExportName], and makes every loop count down a second global.
// When the countdown runs out, every 16384 loop iterations, the loop calls a small
// added function that
//
//   - visits Go (memory.grow 0, which wazero's compiler runs in Go). Native guest code
//     cannot be preempted, and a garbage collection stops the world by waiting for
//     every goroutine: without these visits, a guest looping forever would freeze the
//     whole process, including the goroutine that should set the flag;
//   - traps with `unreachable` if the flag is non-zero, and otherwise re-arms the
//     countdown.
//
// Every iteration of every loop passes the loop head, so a guest that runs forever
// keeps reaching the check. To stop it, the host sets the flag from any goroutine; the
// guest traps with wazero's "unreachable" error within 16384 loop iterations. The host
// knows that it set the flag, so it reports a timeout or a cancellation rather than a
// plugin fault, and discards the instance: the trap may have left guest state
// half-updated, and the flag stays set.
//
// The slow path sits outside each loop, in blocks wrapped around it, so the loop itself
// only gains a decrement and a branch that is never taken: on wazero's compiler this
// costs a few percent, where an inline call or trap in the loop costs about half.
//
// Usage:
//
//	bin, stats, err := interrupt.Instrument(core)
//	mod, err := rt.InstantiateWithConfig(ctx, bin, cfg.WithStartFunctions()) // then call _initialize
//	flag := mod.ExportedGlobal(interrupt.ExportName).(api.MutableGlobal)
//	stop := context.AfterFunc(ctx, func() { flag.Set(1) })
//	defer stop()
//
// The function body decoder knows the MVP instruction set and the sign-extension,
// non-trapping float-to-int, bulk-memory, reference-types, multi-value, SIMD (with
// relaxed SIMD), threads, tail-call, typed function references, multi-memory, memory64
// and exception-handling (final and legacy) encodings. It rejects anything else, such
// as GC instructions and types, with an error naming the function, the opcode and its
// offset.
//
// What the check does not cover: code that never loops cannot run for long, except
// through recursion (wazero bounds the stack, but a recursion tree can still take
// exponential time); a start function runs inside instantiation, before the host can
// reach the flag, so instantiate without start functions and call them afterwards; and
// a host function that blocks is the host's own business.
//
// The package decodes with runtime/internal/wasmbin, the binary toolkit it shares with
// the component decoder, and otherwise imports only the standard library. It must not
// import wazero (only its tests do) or any other chiphost package.
package interrupt
