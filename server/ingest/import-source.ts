/**
 * @module server/ingest/import-source
 * Reads messages to import from an mbox file (mboxo/mboxrd, streamed line by
 * line, so a multi-gigabyte file never sits in memory) or a folder of .eml files.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

const FROM_LINE = /^From /;
const ESCAPED_FROM = /^>+From /;

/** Messages of an mbox file, in order, with mboxrd ">From " quoting undone. */
export async function* readMbox(path: string): AsyncGenerator<Buffer> {
  let lines: Buffer[] = [];
  let started = false;
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path)) {
    const data = Buffer.concat([carry, chunk as Buffer]);
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      const line = data.subarray(start, nl + 1);
      start = nl + 1;
      const text = line.subarray(0, Math.min(line.length, 6)).toString('latin1');
      if (FROM_LINE.test(text)) {
        if (started && lines.length > 0) {
          yield Buffer.concat(lines);
        }
        started = true;
        lines = [];
        continue;
      }
      lines.push(ESCAPED_FROM.test(line.subarray(0, 64).toString('latin1')) ? line.subarray(1) : line);
    }
    carry = Buffer.from(data.subarray(start));
  }
  if (carry.length > 0) {
    lines.push(carry);
  }
  if (lines.length > 0) {
    yield Buffer.concat(lines);
  }
}

/** Messages of a folder of .eml files, by file name. */
export async function* readEmlFolder(path: string): AsyncGenerator<Buffer> {
  const names = (await readdir(path)).filter((n) => n.toLowerCase().endsWith('.eml')).sort();
  for (const name of names) {
    yield await readFile(join(path, name));
  }
}

/** Reads either kind of source. */
export async function* readSource(path: string): AsyncGenerator<Buffer> {
  const info = await stat(path);
  yield* info.isDirectory() ? readEmlFolder(path) : readMbox(path);
}

/**
 * Counts a source's messages and fingerprints its bytes in one pass. The
 * fingerprint is the import's UIDVALIDITY, so importing the same file again
 * lands on the same (folder, uidvalidity, uid) rows and adds nothing.
 */
export async function describeSource(path: string): Promise<{ count: number; fingerprint: number }> {
  const hash = createHash('sha256');
  let count = 0;
  for await (const message of readSource(path)) {
    hash.update(message);
    count += 1;
  }
  return { count, fingerprint: hash.digest().readUInt32BE(0) & 0x7fffffff };
}
