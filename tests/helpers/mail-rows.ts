/**
 * @module tests/helpers/mail-rows
 * Minimal stored mail for API tests that need messages but not a mail
 * server: a mailbox row for a person and messages with participants.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/types';

/** Creates a mailbox for a person. @returns the account id. */
export async function insertTestMailbox(db: Db, p: { orgId: string; ownerId: string; address: string }): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into mail_accounts (id, org_id, owner_id, label, email, provider, imap_host, imap_port, imap_security, imap_user,
       smtp_host, smtp_port, smtp_security, smtp_user, auth_kind, wrapped_dek, imap_secret)
     values ($1, $2, $3, 'Work', $4, 'custom', 'imap.test', 993, 'tls', $4, 'smtp.test', 465, 'tls', $4, 'password', 'k', 's')`,
    [id, p.orgId, p.ownerId, p.address],
  );
  await db.query('insert into mail_account_addresses (account_id, address, is_default) values ($1, $2, true)', [id, p.address]);
  return id;
}

/** Stores a message in a mailbox, in its own thread. @returns the message and thread ids. */
export async function insertTestMessage(
  db: Db,
  m: { orgId: string; accountId: string; from: string; to: string[]; subject: string; text?: string; sentFromShoal?: boolean },
): Promise<{ messageId: string; threadId: string }> {
  const messageId = randomUUID();
  const threadId = randomUUID();
  await db.query('insert into threads (id, org_id, subject) values ($1, $2, $3)', [threadId, m.orgId, m.subject]);
  await db.query(
    `insert into messages (id, org_id, account_id, thread_id, message_key, subject, from_address, to_addresses, received_at,
       snippet, text_body, raw_sha256, sent_from_shoal)
     values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, now(), $9, $10, $11, $12)`,
    [
      messageId, m.orgId, m.accountId, threadId, `k:${messageId}`, m.subject, m.from,
      JSON.stringify(m.to.map((address) => ({ address, name: null }))),
      (m.text ?? m.subject).slice(0, 100), m.text ?? m.subject, new Uint8Array(32), m.sentFromShoal ?? false,
    ],
  );
  for (const [i, address] of [m.from, ...m.to].entries()) {
    await db.query('insert into message_participants (message_id, address, role) values ($1, $2, $3) on conflict do nothing', [
      messageId,
      address,
      i === 0 ? 'from' : 'to',
    ]);
  }
  return { messageId, threadId };
}
