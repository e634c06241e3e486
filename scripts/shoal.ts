/**
 * @module scripts/shoal
 * The Shoal command line: `npm run shoal -- <command>`.
 *   import <mbox file | folder of .eml> --account <id>
 */
import { migrate, openDb } from '../db';
import { importMessages } from '../server/ingest/import-messages';
import { EnvError, loadConfig } from '../server/env';
import { loadKeyring } from '../server/secrets/keyring';

const USAGE = 'usage: npm run shoal -- import <mbox file | folder of .eml files> --account <mailbox id>';

function progressBar(done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
  return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} (${percent}%)`;
}

function parseImportArgs(args: string[]): { path: string; accountId: string } {
  const accountFlag = args.indexOf('--account');
  const accountId = accountFlag >= 0 ? args[accountFlag + 1] : undefined;
  const path = args.find((a, i) => !a.startsWith('--') && i !== accountFlag + 1);
  if (!path || !accountId || !/^[0-9a-f-]{36}$/i.test(accountId)) {
    throw new Error(USAGE);
  }
  return { path, accountId };
}

async function runImport(args: string[]): Promise<void> {
  const { path, accountId } = parseImportArgs(args);
  const config = loadConfig();
  const db = await openDb({ databaseUrl: config.databaseUrl, prepare: config.databasePrepare, dataDir: config.dataDir });
  try {
    await migrate(db);
    const keyring = await loadKeyring(config);
    const interactive = process.stderr.isTTY;
    const result = await importMessages(db, keyring, accountId, path, ({ done, total }) => {
      process.stderr.write(interactive ? `\r${progressBar(done, total)}` : `${progressBar(done, total)}\n`);
    });
    process.stderr.write(interactive ? '\n' : '');
    console.log(
      `Imported ${result.stored} of ${result.total} messages into "${result.folder}"` +
        (result.quarantined > 0 ? `; ${result.quarantined} could not be parsed and were quarantined.` : '.'),
    );
  } finally {
    await db.close();
  }
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'import') {
    await runImport(rest);
  } else {
    throw new Error(USAGE);
  }
} catch (error) {
  console.error(error instanceof EnvError || error instanceof Error ? error.message : String(error));
  process.exit(1);
}
