/**
 * @module scripts/rotate-keys
 * `tsx scripts/rotate-keys.ts [--new-key]`: re-wraps every mailbox's data key
 * with the active KEK. With `--new-key` (keyring-file installs only) it first
 * adds a fresh KEK to `<dataDir>/keyring.json` and makes it active.
 *
 * Old KEKs stay in the keyring, decrypt-only, so nothing becomes unreadable
 * if the sweep stops half way; running it again finishes the job. Running
 * Shoal processes hold their keyring in memory, so restart them after adding
 * a key (with MAIL_KEKS: add the key, set MAIL_KEK_ACTIVE, restart, then run
 * this without `--new-key`).
 */
import { migrate, openDb } from '../db';
import { loadConfig, type Config } from '../server/env';
import { rewrapAllAccounts } from '../server/secrets/account-secrets';
import { addKek, keyringPath, loadKeyring, type KeyringLog } from '../server/secrets/keyring';

const USAGE = 'Usage: tsx scripts/rotate-keys.ts [--new-key]';

const consoleLog: KeyringLog = {
  warn: (obj, msg) => console.warn(`warning: ${msg} ${JSON.stringify(obj)}`),
};

/** Parses the command line. @throws {Error} with the usage line on anything unknown. */
function parseArgs(argv: readonly string[]): { newKey: boolean } {
  const unknown = argv.filter((a) => a !== '--new-key');
  if (unknown.length > 0) {
    throw new Error(`Unknown argument ${unknown.join(' ')}\n${USAGE}`);
  }
  return { newKey: argv.includes('--new-key') };
}

/** Refuses `--new-key` before touching anything when keys come from the environment. */
function assertFileKeyring(config: Config): void {
  if (config.mailKeks !== null) {
    throw new Error(
      'Keys come from MAIL_KEKS, so --new-key cannot add one. Append kid:$(openssl rand -base64 32) to MAIL_KEKS, ' +
        'set MAIL_KEK_ACTIVE to that kid, restart Shoal, then run this command without --new-key.',
    );
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const { newKey } = parseArgs(argv);
  const config = loadConfig();
  if (newKey) {
    assertFileKeyring(config);
  }
  const db = await openDb({ databaseUrl: config.databaseUrl, prepare: config.databasePrepare, dataDir: config.dataDir });
  try {
    await migrate(db);
    if (newKey) {
      const kid = await addKek(config.dataDir, consoleLog);
      console.log(`Added key ${kid} to ${keyringPath(config.dataDir)} and made it active.`);
    }
    const keyring = await loadKeyring(config, consoleLog);
    const { rewrapped, alreadyCurrent } = await rewrapAllAccounts(db, keyring);
    const old = [...keyring.keks.keys()].filter((kid) => kid !== keyring.active.kid);
    console.log(`Re-wrapped ${rewrapped} mailbox key(s) with ${keyring.active.kid}; ${alreadyCurrent} already used it.`);
    if (old.length > 0) {
      console.log(
        `Older keys ${old.join(', ')} stay in the keyring (${keyring.source}), decrypt-only. Remove one only after every ` +
          `Shoal process runs with ${keyring.active.kid} and a later run of this command re-wraps 0.`,
      );
    }
    if (newKey) {
      console.log('Restart running Shoal processes so they load the new key.');
    }
  } finally {
    await db.close();
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(`Key rotation failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
