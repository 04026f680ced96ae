// Times one chiphost session through clients/node, for the benchmark suite
// (bench/extclient.go): the same as client_bench.py. clients/node must have
// been installed with npm ci.
const [clientDir, exe, root, cache, tmp, path, mode] = process.argv.slice(2);
const { Client } = require(clientDir);
(async () => {
  const c = await Client.start({ binary: exe, args: ["--plugins-dir", root, "--cache-dir", cache, "--log-level", "error", "--temp-dir", tmp], noDefaultPlugins: true });
  const pid = (await c.listPlugins()).find((p) => p.name === "string_parser").id;
  const t = process.hrtime.bigint();
  const s = await c.openSession({ parser: pid, source: path });
  let n = 0;
  if (mode === "grab") {
    for (;;) {
      const rows = await c.grab(s, n, 10000);
      n += rows.length;
      if (rows.length === 0) {
        const u = c.sessionUpdate(s);
        if (u && u.state !== "running" && n >= u.rows) break;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  } else {
    for await (const _ of c.stream(s, { window: 10000 })) n++;
  }
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  await c.shutdown();
  console.log(JSON.stringify({ secs, rows: n }));
})().catch((e) => { console.error(e); process.exit(1); });
