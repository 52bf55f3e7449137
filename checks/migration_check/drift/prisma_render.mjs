// Renders a Prisma schema to the SQL that creates it, with Prisma's own schema engine (its
// WebAssembly build): what `prisma migrate diff --from-empty --to-schema FILE --script` prints,
// without the native engine that command downloads. Run by drift/prisma.py:
//   node prisma_render.mjs NODE_MODULES SERVER_VERSION_NUM FILE...
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [modules, versionText, ...schemaFiles] = process.argv.slice(2);
const require = createRequire(path.join(modules, 'migration-check.cjs'));
const { bindMigrationAwareSqlAdapterFactory } = require('@prisma/driver-adapter-utils');
const engineDir = path.join(modules, '@prisma', 'schema-engine-wasm');
const glue = await import(path.join(engineDir, 'schema_engine_bg.js'));
const { instance } = await WebAssembly.instantiate(fs.readFileSync(path.join(engineDir, 'schema_engine_bg.wasm')),
                                                    { './schema_engine_bg.js': glue });
glue.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start?.();

// No database: for an empty starting point the engine asks the server only for its version.
const version = Number(versionText);
const refuse = async () => { throw new Error('migration-check renders the Prisma schema without a database'); };
const queryRaw = async (query) => {
  if (!query.sql.includes('server_version_num')) return refuse();
  return { columnNames: ['exists', 'version', 'numeric_version'], columnTypes: [5, 7, 0],
           rows: [[true, `PostgreSQL ${Math.floor(version / 10000)}`, version]] };
};
const offline = { provider: 'postgres', adapterName: '@prisma/adapter-pg', queryRaw, executeRaw: refuse,
                  executeScript: refuse, startTransaction: refuse, dispose: async () => {} };
const factory = bindMigrationAwareSqlAdapterFactory({ provider: 'postgres', adapterName: '@prisma/adapter-pg',
                                                      connect: async () => offline, connectToShadowDb: async () => offline });
const files = schemaFiles.map((file) => ({ path: file, content: fs.readFileSync(file, 'utf8') }));
try {
  const engine = await glue.SchemaEngine.new({ datamodels: files.map((f) => [f.path, f.content]) }, () => {}, factory);
  const result = await engine.diff({ from: { tag: 'empty' }, to: { tag: 'schemaDatamodel', files }, script: true,
                                     exitCode: null, filters: { externalTables: [], externalEnums: [] } });
  process.stdout.write(result.stdout || '');
} catch (error) {
  process.stderr.write(String(error?.message ?? error).split('\n')[0] + '\n');
  process.exit(1);
}
