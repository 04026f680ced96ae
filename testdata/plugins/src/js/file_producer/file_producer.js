// chipmunk:producer/produce@0.1.0 in JavaScript (componentize-js, WASI 0.2 on): the same producer
// as src/c/file_producer.c, but it opens and reads its input through wasi:filesystem directly
// (preopens, open-at, read) instead of through the preview-1 adapter. Rows, entries, schemas and
// render options are the C build's; the texts of I/O errors are WASI 0.2 error codes.
import { log } from "chipmunk:shared/logging@0.1.0";
import { getDirectories } from "wasi:filesystem/preopens@0.2.12";

const schema = (id, title, description, inputType) => ({ id, title, description, inputType });

let file = null; // the input's descriptor after init
let offset = 0n;
let linesPerCall = 1000, chunkSize = 65536, failAt = 0, stallAt = 0;
let buf = new Uint8Array(0); // unread bytes
let eof = false, doneSent = false, lineno = 0;
const decoder = new TextDecoder();

function debugValue(v) {
  const name = v.tag[0].toUpperCase() + v.tag.slice(1);
  if (v.tag === "files" || v.tag === "directories") return `${name}([${v.val.map((s) => JSON.stringify(s)).join(", ")}])`;
  if (v.tag === "text" || v.tag === "dropdown") return `${name}(${JSON.stringify(v.val)})`;
  return `${name}(${v.val})`;
}

function intItem(items, id, min, dflt) {
  const it = items.find((i) => i.id === id);
  if (!it) return dflt;
  if (it.value.tag !== "integer" || it.value.val < min) {
    throw { tag: "config", val: `'${id}' must be an integer of at least ${min}, got ${debugValue(it.value)}` };
  }
  return it.value.val;
}

// openInput opens path through the preopen that holds it.
function openInput(path) {
  for (const [dir, at] of getDirectories()) {
    const prefix = at.endsWith("/") ? at : at + "/";
    if (path.startsWith(prefix)) {
      try {
        return dir.openAt({}, path.slice(prefix.length), {}, { read: true });
      } catch (e) {
        throw { tag: "io", val: `opening the input: ${e.payload ?? e}` };
      }
    }
  }
  throw { tag: "io", val: "opening the input: no preopened directory holds it" };
}

function item(text) {
  lineno++;
  return { tag: "item", val: { tag: "message", val: { tag: "columns", val: [String(lineno), text] } } };
}

export const producer = {
  getVersion() {
    return { major: 0, minor: 1, patch: 0 };
  },
  getConfigSchemas() {
    return [
      schema("input-path", "File Path", "The file whose lines become rows", { tag: "files", val: [] }),
      schema("lines-per-call", "Lines per call", "At most this many lines per produce-next", { tag: "integer", val: 1000 }),
      schema("chunk-size", "Read size", "Bytes asked for by each read of the file", { tag: "integer", val: 65536 }),
      schema("fail-at", "Fail at line", "Answer a produce error instead of this line (0: never)", { tag: "integer", val: 0 }),
      schema("stall-at", "Stall at line", "Spin forever instead of returning this line (0: never)", { tag: "integer", val: 0 }),
    ];
  },
  getRenderOptions() {
    return {
      columnsOptions: {
        columns: [
          { caption: "Line", description: "Line number in the file", width: 8 },
          { caption: "Text", description: "The line", width: -1 },
        ],
        minWidth: 8,
        maxWidth: 600,
      },
    };
  },
  init(general, items) {
    if (file !== null) throw new Error("init called twice");
    linesPerCall = Math.min(intItem(items, "lines-per-call", 1, 1000), 1000000);
    chunkSize = intItem(items, "chunk-size", 1, 65536);
    failAt = intItem(items, "fail-at", 0, 0);
    stallAt = intItem(items, "stall-at", 0, 0);
    const it = items.find((i) => i.id === "input-path");
    if (!it) throw { tag: "config", val: "No configuration value for id 'input-path' is provided" };
    if (it.value.tag !== "files" || it.value.val.length !== 1) {
      throw { tag: "config", val: `'input-path' must name exactly one file, got ${debugValue(it.value)}` };
    }
    file = openInput(it.value.val[0]);
    if (general.logLevel === "debug" || general.logLevel === "trace") log("debug", "File producer opened " + it.value.val[0]);
  },
  produceNext() {
    if (file === null || doneSent) throw new Error("produce-next called before init or after done");
    const out = [];
    let failed = false;
    let pos = 0;
    const takeLines = () => {
      while (out.length < linesPerCall && pos < buf.length && !failed) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) return;
        const line = buf.subarray(pos, nl);
        if (line.length === 0) {
          lineno++;
          out.push({ tag: "skipped" });
        } else if (line[0] === 35) {
          lineno++;
          out.push({ tag: "empty" });
        } else {
          putLine(line);
        }
        pos = nl + 1;
      }
    };
    const putLine = (bytes) => {
      if (stallAt && lineno + 1 === stallAt) {
        log("info", "looping");
        for (;;) {}
      }
      if (failAt && lineno + 1 === failAt) {
        failed = true;
        return;
      }
      out.push(item(decoder.decode(bytes)));
    };
    takeLines();
    if (out.length === 0 && !eof) {
      buf = buf.slice(pos);
      pos = 0;
      const [data] = file.read(BigInt(chunkSize), offset);
      offset += BigInt(data.length);
      if (data.length === 0) eof = true;
      const all = new Uint8Array(buf.length + data.length);
      all.set(buf);
      all.set(data, buf.length);
      buf = all;
      takeLines();
    }
    if (eof && out.length < linesPerCall && buf.indexOf(10, pos) < 0) {
      if (pos < buf.length) {
        putLine(buf.subarray(pos));
        pos = buf.length;
      }
      out.push({ tag: "done" });
      doneSent = true;
    }
    buf = buf.slice(pos);
    if (failed) {
      const at = failAt;
      failAt = 0;
      throw { tag: "produce", val: `line ${at}: failing as configured (fail-at)` };
    }
    if (out.length === 0) out.push({ tag: "incomplete" });
    return out;
  },
};
