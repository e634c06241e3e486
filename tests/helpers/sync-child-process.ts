/**
 * @module tests/helpers/sync-child-process
 * Starts tests/helpers/sync-child.ts as a separate process syncing one
 * mailbox, and follows the JSON events it prints (`started`, `leased`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./sync-child.ts', import.meta.url));

export interface SyncChildEnv {
  databaseUrl: string;
  accountId: string;
  /** MAIL_KEKS of the process that connected the mailbox. */
  keks: string;
  messageIdKey: string;
}

export interface SyncChild {
  proc: ChildProcessWithoutNullStreams;
  /** Event names printed so far, in order. */
  events: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a sync child; it exits by itself when its stdin closes (the test process died). */
export function spawnSyncChild(env: SyncChildEnv): SyncChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SHOAL_CHILD_DB_URL: env.databaseUrl,
      SHOAL_CHILD_ACCOUNT: env.accountId,
      SHOAL_CHILD_KEKS: env.keks,
      SHOAL_CHILD_MESSAGE_ID_KEY: env.messageIdKey,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: string[] = [];
  const stderr: string[] = [];
  let pending = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      events.push((JSON.parse(line) as { event: string }).event);
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, events, stderr, exited };
}
