// Small CLI over the wasm builds of wasm-tools and js-component-bindgen that ship inside
// @bytecodealliance/jco-transpile. build.sh copies this file next to the node_modules that
// `npm ci` populated (module resolution starts from the script's own location).
//
//   component CORE.wasm WIT_DIR WORLD OUT.wasm [ADAPTER.wasm|-] [utf8|utf16|compact-utf16]
//       embed the world's metadata into the core module, then `component new` (with the
//       wasi_snapshot_preview1 adapter when given)
//   wit COMPONENT.wasm                print the component's WIT
//   print WASM                        print WAT
//   parse IN.wat OUT.wasm             assemble WAT (components too)
//   nest COMPONENT.wasm OUT.wasm      wrap a component as a nested component of a new outer one
//       that imports the same instances, instantiates the inner one with them and re-exports
//       its interface (a composed component, as wac/wasm-compose would make)
//   transpile COMPONENT.wasm OUTDIR NAME [IFACE=SPECIFIER ...]
//       jco transpile: a JavaScript host for the component (the oracle)
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { componentEmbed, componentNew, componentWit, parse, print } from "@bytecodealliance/jco-transpile/wasm-tools";
import { transpile } from "@bytecodealliance/jco-transpile";

// preview2-shim 0.26 starts without preopens, so the wasm-built wasm-tools could not open WIT_DIR.
_setPreopens({ "/": "/" });

const usage = () => {
  console.error("usage: component|wit|print|parse|transpile ... (see the header of this file)");
  process.exit(2);
};
const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
  case "component": {
    const [core, witDir, world, out, adapter = "-", stringEncoding = "utf8"] = args;
    if (!out) usage();
    const embedded = await componentEmbed({
      binary: await readFile(core),
      witPath: resolve(witDir),
      world, // the API field; jco's CLI passes `worldName`, which the API ignores
      stringEncoding,
    });
    const adapters = adapter === "-" ? [] : [["wasi_snapshot_preview1", await readFile(adapter)]];
    await writeFile(out, await componentNew(embedded, adapters));
    break;
  }
  case "wit":
    process.stdout.write(await componentWit(await readFile(args[0])));
    break;
  case "print":
    process.stdout.write(await print(await readFile(args[0])));
    break;
  case "parse":
    await writeFile(args[1], await parse(await readFile(args[0], "utf8")));
    break;
  case "nest": {
    const [component, out] = args;
    if (!out) usage();
    await writeFile(out, await parse(nest(await print(await readFile(component)))));
    break;
  }
  case "transpile": {
    const [component, outDir, name, ...maps] = args;
    if (!name) usage();
    const map = Object.fromEntries(maps.map((m) => m.split("=", 2)));
    const { files } = await transpile(resolve(component), { name, map, quiet: true });
    for (const [file, bytes] of Object.entries(files)) {
      const p = join(outDir, file);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, bytes);
    }
    break;
  }
  default:
    usage();
}

// nest(wat): the inner component's leading type/import/alias items (everything before its first
// core module) declare exactly its imports; the outer component repeats them, then holds the
// inner component whole and instantiates it with its own imports.
function nest(wat) {
  const lines = wat.split("\n");
  if (!lines[0].startsWith("(component")) throw new Error("nest: not a component");
  const firstCore = lines.findIndex((l) => l.startsWith("  (core module"));
  const head = lines.slice(1, firstCore);
  const imports = [...head.join("\n").matchAll(/^  \(import "([^"]+)" \(instance (\$\S+)/gm)];
  const exports = [...wat.matchAll(/^  \(export \S+ (?:\(;\d+;\) )?"([^"]+)" \(instance/gm)].map((m) => m[1]);
  if (!imports.length || exports.length !== 1) throw new Error("nest: unexpected component shape");
  const body = lines.slice(1).join("\n").replace(/\)\s*$/, "");
  const withs = imports.map(([, name, id]) => `      (with "${name}" (instance ${id}))`).join("\n");
  return [
    "(component",
    ...head,
    "  (component $inner",
    body.replace(/^/gm, "  "),
    "  )",
    "  (instance $plugin (instantiate $inner",
    withs,
    "  ))",
    `  (alias export $plugin "${exports[0]}" (instance $iface))`,
    `  (export "${exports[0]}" (instance $iface))`,
    ")",
    "",
  ].join("\n");
}
