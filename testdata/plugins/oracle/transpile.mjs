// node transpile.mjs COMPONENT.wasm OUTDIR
// jco-transpiles a plugin component into OUTDIR/plugin.js, mapping the two Chipmunk imports to
// the small JS hosts logging.js and sandbox.js (copied next to it). OUTDIR must lie under the
// directory whose node_modules holds @bytecodealliance/jco-transpile (oracle.sh arranges it),
// so that the generated code finds @bytecodealliance/preview2-shim for the WASI imports.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { transpile } from "@bytecodealliance/jco-transpile";

const [component, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node transpile.mjs COMPONENT.wasm OUTDIR");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const { files } = await transpile(resolve(component), {
  name: "plugin",
  quiet: true,
  map: {
    "chipmunk:shared/logging@0.1.0": "./logging.js",
    "chipmunk:shared/sandbox@0.1.0": "./sandbox.js",
  },
});
await mkdir(outDir, { recursive: true });
for (const [file, bytes] of Object.entries(files)) {
  await mkdir(dirname(join(outDir, file)), { recursive: true });
  await writeFile(join(outDir, file), bytes);
}
for (const f of ["logging.js", "sandbox.js"]) await copyFile(join(here, f), join(outDir, f));
// WASI setup the run needs before the plugin touches the filesystem or stdout:
// preview2-shim >= 0.26 starts with no preopens, and plugin stdout must not mix with the JSON.
await writeFile(
  join(outDir, "wasi-setup.js"),
  `import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { _setStdout, stderr } from "@bytecodealliance/preview2-shim/cli";
_setPreopens({ "/": "/" });
_setStdout(stderr.getStderr());
`,
);
await writeFile(join(outDir, "package.json"), '{"type":"module"}\n');
