/**
 * The inbox is IDLEd on, but IDLE only reports the selected mailbox. Mail
 * that reaches the inbox while the worker is syncing another folder raises
 * no event, so the worker must notice it when it selects the inbox again,
 * not only at the next periodic pass of every folder (minutes later).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountWorker } from '../../server/ingest/account-worker';
import { createMessageStore } from '../../server/ingest/store-messages';
import type { MessageSink } from '../../server/ingest/sync-folder';
import { client, createHarness, signUpAdmin, type Harness } from '../helpers/app';
import { driverCases, type TestDb } from '../helpers/db';
import { dovecotAvailable, startDovecot, type Dovecot } from '../helpers/dovecot';
import { connectLoopbackAccount, waitFor } from '../helpers/mail-account';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';

/** The periodic pass of every folder is far away: only the inbox's own path can store the new mail in time. */
const OPTIONS = { folderIntervalMs: 10 * 60_000, watchdogMs: 20_000, idleDelayMs: 100, leaseRetryMs: 300 };

function rawMessage(id: string, subject: string): string {
  return [
    'From: Carol Customer <carol@customer.test>',
    'To: alice@acme.test',
    `Subject: ${subject}`,
    `Message-ID: <${id}>`,
    'Date: Mon, 23 Nov 2026 09:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of ${subject}`,
    '',
  ].join('\r\n');
}

describe.runIf(dovecotAvailable()).each(driverCases())('the IDLEd inbox on $name', ({ create }) => {
  let dovecot: Dovecot;
  let sink: SmtpSink;
  let t: TestDb;
  let h: Harness;
  let worker: AccountWorker | null = null;

  beforeAll(async () => {
    dovecot = await startDovecot();
    sink = await startSmtpSink();
    await dovecot.prefill('alice', 'INBOX', [Buffer.from(rawMessage('first@customer.test', 'First question'))]);
    await dovecot.prefill('alice', 'Archive', [Buffer.from(rawMessage('old@customer.test', 'Old thread'))]);
    t = await create();
    h = await createHarness(t.db, { SIGNUP: 'open', MAIL_ALLOW_PRIVATE_HOSTS: 'true' });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await t?.drop();
    await sink?.stop();
    await dovecot?.stop();
  });

  it('stores mail that reached the inbox while another folder was syncing, without waiting for the folder timer', async () => {
    const admin = await signUpAdmin(client(h.app), 'alice@acme.test');
    const accountId = await connectLoopbackAccount(client(h.app), admin.cookie, { imapPort: dovecot.port, smtpPort: sink.port });
    const store = createMessageStore(t.db, {
      accountId,
      orgId: admin.orgId,
      ownAddresses: ['alice@acme.test'],
      messageIdKey: h.deps.keyring.messageIdKey,
    });
    let delivered = false;
    // New mail lands in the inbox exactly while the Archive pass (after the inbox's) is storing.
    const sinkDuringArchive: MessageSink = {
      async storeBatch(folder, uidvalidity, messages, checkpoint) {
        if (folder.path === 'Archive' && !delivered) {
          delivered = true;
          await dovecot.save('alice', 'INBOX', rawMessage('during@customer.test', 'Arrived during the Archive pass'));
        }
        await store.storeBatch(folder, uidvalidity, messages, checkpoint);
      },
    };
    worker = new AccountWorker(accountId, { db: t.db, keyring: h.deps.keyring, log: h.deps.log, sink: sinkDuringArchive, now: () => new Date(), allowPrivateHosts: true }, OPTIONS);
    worker.start();

    const stored = () =>
      t.db.query<{ id: string }>(
        `select m.header_message_id as id from messages m join message_locations l on l.message_id = m.id
         join mail_folders f on f.id = l.folder_id where f.account_id = $1 and f.path = 'INBOX' order by 1`,
        [accountId],
      );
    const rows = await waitFor('the mail that arrived during the Archive pass', stored, (r) => r.length === 2, 30_000);
    expect(delivered).toBe(true);
    expect(rows.map((r) => r.id)).toEqual(['during@customer.test', 'first@customer.test']);
  });
});
