// Parse a log with a Chipmunk parser plugin and print its rows.
//   cd clients/node && npm install && node example.js   (chiphost on PATH, or CHIPHOST=/path/to/chiphost)
const { Client } = require('chiphost');

async function main(log = '../../examples/sample.log', parser = '../../testdata/plugins/parsers/string_parser/string_parser.wasm') {
  const c = await Client.start();
  const session = await c.openSession({ parser, source: log, config: { prefix: '>' } });
  for await (const row of c.stream(session)) console.log(row.index, row.columns.join(' | '));
  await c.shutdown();
}

main(...process.argv.slice(2)).catch((e) => {
  console.error(e);
  process.exit(1);
});
