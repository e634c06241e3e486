/**
 * Flag sync without a modseq to resume from (no CONDSTORE, or the first pass
 * after a backfill): the server lists every message's flags, and only the
 * ones that differ from what Shoal holds are written, both ways of \Seen.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listFolders, upsertFolder } from '../../db/queries/mail-folders';
import { createMessageStore } from '../../server/ingest/store-messages';
import { syncFolderPass, type FolderPassResult } from '../../server/ingest/sync-folder';
import { client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { loadCorpus } from '../helpers/corpus';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

const MESSAGES = 120;

describe.runIf(dovecotAvailable()).each(driverCases())('full flag passes on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let accountId: string;
  let orgId: string;

  async function pass(): Promise<FolderPassResult> {
    const imap = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: { user: 'alice', pass: 'alice-pw' }, logger: false });
    imap.on('error', () => {});
    await imap.connect();
    try {
      const folder = (await listFolders(t.db, accountId)).find((f) => f.path === 'INBOX');
      const store = createMessageStore(t.db, { accountId, orgId, ownAddresses: ['alice@acme.test'], messageIdKey: h.deps.keyring.messageIdKey });
      const lock = await imap.getMailboxLock('INBOX', { readOnly: true });
      try {
        return await syncFolderPass({ db: t.db, client: imap, sink: store, stableIds: false, shouldStop: () => false }, folder?.id as string);
      } finally {
        lock.release();
        await imap.logout();
      }
    } finally {
      imap.close();
    }
  }

  /** Forget the modseq, as after a backfill or on a server without CONDSTORE: the next pass fetches every message's flags. */
  const forgetModseq = () => t.db.query(`update mail_folders set highest_modseq = null where account_id = $1`, [accountId]);

  /** The message's read state and its location's flags (\Recent aside: it is the server's, per session). */
  const seenOf = async (uid: number) => {
    const [row] = await t.db.query<{ seen: boolean; flags: string[] }>(
      `select m.seen, l.flags from message_locations l join messages m on m.id = l.message_id
       join mail_folders f on f.id = l.folder_id where f.account_id = $1 and f.path = 'INBOX' and l.uid = $2`,
      [accountId, uid],
    );
    return row && { seen: row.seen, flags: row.flags.filter((f) => f !== '\\Recent') };
  };

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    await dovecot.prefill('alice', 'INBOX', loadCorpus({ groups: ['easy-ham-1'], limit: MESSAGES }).map((m) => m.raw));
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
    const admin = await signUpAdmin(client(h.app), 'alice@acme.test');
    orgId = admin.orgId;
    accountId = await connectLoopbackAccount(client(h.app), admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
    await upsertFolder(t.db, { accountId, path: 'INBOX', delimiter: '/', role: 'inbox', selectable: true });
  }, 120_000);

  afterAll(async () => {
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('writes only the locations whose flags changed, and mirrors \\Seen both ways', async () => {
    const first = await pass();
    expect(first.stored).toBe(MESSAGES);
    // Everything fetched with its flags a moment ago: a full flag pass finds nothing to write.
    await forgetModseq();
    expect((await pass()).flagsChanged).toBe(0);

    const [read, unread] = (await dovecot.listUids('alice', 'INBOX')) as [number, number];
    await dovecot.setFlag('alice', 'INBOX', read, '\\Seen', true);
    await dovecot.setFlag('alice', 'INBOX', unread, '\\Flagged', true);
    await forgetModseq();
    expect((await pass()).flagsChanged).toBe(2);
    expect(await seenOf(read)).toEqual({ seen: true, flags: ['\\Seen'] });
    expect(await seenOf(unread)).toEqual({ seen: false, flags: ['\\Flagged'] });

    await dovecot.setFlag('alice', 'INBOX', read, '\\Seen', false);
    await forgetModseq();
    expect((await pass()).flagsChanged).toBe(1);
    expect(await seenOf(read)).toEqual({ seen: false, flags: [] });
  });
});
