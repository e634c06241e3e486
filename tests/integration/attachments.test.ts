/**
 * Attachment downloads over HTTP on every driver: decoded from the stored
 * raw message, always `Content-Disposition: attachment` with an RFC 6266
 * `filename*`, `nosniff`, and an inert type (HTML, SVG, XHTML and scripts go
 * out as application/octet-stream). A message the viewer may not see is a
 * 404, exactly like an unknown one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageStore } from '../../server/ingest/store-messages';
import { attachmentDisposition } from '../../server/routes/attachments';
import type { ThreadDto } from '../../sync/mail-api';
import { addPerson, client, createHarness, signUpAdmin, type Client, type Harness } from '../helpers/app';
import { messageIdOf, seedMailbox, type TestMailbox } from '../helpers/conversion-mail';
import { driverCases, type TestDb } from '../helpers/db';

const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PDF = '%PDF-1.4\n%\n1 0 obj <</Type/Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n';

function part(headers: string[], body: string): string {
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

function hostileMessage(to: string): string {
  const b = 'b-outer';
  const parts = [
    part(['Content-Type: text/html; charset=utf-8'], '<p>Files attached <img src="cid:logo@shoal.test"></p>'),
    part(['Content-Type: image/png', 'Content-ID: <logo@shoal.test>', 'Content-Disposition: inline; filename="logo.png"', 'Content-Transfer-Encoding: base64'], PNG_B64),
    part(['Content-Type: application/pdf', "Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%80%AEfdp.exe%22%3B%20x%3D%22.pdf", 'Content-Transfer-Encoding: base64'], Buffer.from(PDF).toString('base64')),
    part(['Content-Type: text/html; name="invoice.html"', 'Content-Disposition: attachment; filename="invoice.html"'], '<script>parent.document.cookie</script><h1>Pay now</h1>'),
    part(['Content-Type: image/svg+xml; name="chart.svg"', 'Content-Disposition: attachment; filename="chart.svg"'], '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    part(['Content-Type: application/xhtml+xml; name="page.xhtml"', 'Content-Disposition: attachment; filename="page.xhtml"'], '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'),
    part(['Content-Type: image/png; name="fake.png"', 'Content-Disposition: attachment; filename="fake.png"'], '<html><script>alert(1)</script></html>'),
  ];
  return [
    'From: "Mallory" <mallory@evil.example>',
    `To: ${to}`,
    'Subject: Files',
    `Date: ${new Date('2026-11-20T10:00:00Z').toUTCString()}`,
    `Message-ID: <${crypto.randomUUID()}@evil.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${b}"`,
    '',
    ...parts.flatMap((p) => [`--${b}`, p]),
    `--${b}--`,
    '',
  ].join('\r\n');
}

describe.each(driverCases())('attachments on $name', ({ create }) => {
  let t: TestDb;
  let h: Harness;
  let api: Client;
  let admin: { cookie: string; userId: string; orgId: string };
  let rep: { cookie: string; userId: string };
  let box: TestMailbox;
  let messageId: string;

  const download = (index: number, cookie: string | null = rep.cookie, id = messageId) =>
    h.app.request(`/api/messages/${id}/attachments/${index}`, { headers: cookie ? { cookie } : {} });

  beforeAll(async () => {
    t = await create();
    h = await createHarness(t.db);
    api = client(h.app);
    admin = await signUpAdmin(api);
    rep = await addPerson(api, admin.cookie, 'rep', 'Rita Rep');
    box = await seedMailbox(t.db, h.deps.keyring, admin.orgId, rep.userId, 'rita@acme.test');
    const store = createMessageStore(t.db, { accountId: box.accountId, orgId: box.orgId, ownAddresses: [box.email], messageIdKey: h.deps.keyring.messageIdKey });
    const uid = box.nextUid++;
    await store.storeBatch(box.folder, box.uidvalidity, [
      { uid, flags: [], modseq: null, internalDate: new Date(), source: Buffer.from(hostileMessage(box.email)), emailId: null, gmThreadId: null },
    ], { uidnext: box.nextUid });
    messageId = await messageIdOf(t.db, box, uid);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('lists attachments with their index and Content-ID in the thread', async () => {
    const [row] = await t.db.query<{ threadId: string }>('select thread_id as "threadId" from messages where id = $1', [messageId]);
    const thread = await api.get<ThreadDto>(`/api/threads/${row?.threadId}`, { cookie: rep.cookie });
    expect(thread.status).toBe(200);
    const files = thread.body.messages[0]?.attachments ?? [];
    expect(files.map((f) => [f.index, f.filename, f.contentId])).toEqual([
      [0, 'logo.png', 'logo@shoal.test'],
      // The bidi override is gone from the stored name, so it cannot disguise the extension.
      [1, 'Résumé fdp.exe"; x=".pdf', null],
      [2, 'invoice.html', null],
      [3, 'chart.svg', null],
      [4, 'page.xhtml', null],
      [5, 'fake.png', null],
    ]);
  });

  it('serves an inline image and a PDF as downloads under their inert types', async () => {
    const logo = await download(0);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('content-disposition')).toBe(`attachment; filename="logo.png"; filename*=UTF-8''logo.png`);
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    expect(logo.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(Buffer.from(await logo.arrayBuffer()).equals(Buffer.from(PNG_B64, 'base64'))).toBe(true);

    const pdf = await download(1);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const disposition = pdf.headers.get('content-disposition') ?? '';
    // The quote in the name never closes the parameter; the exact name survives in filename*.
    expect(disposition).toBe(`attachment; filename="R_sum_ fdp.exe_; x=_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20fdp.exe%22%3B%20x%3D%22.pdf`);
    expect(await pdf.text()).toBe(PDF);
  });

  it('never serves HTML, SVG, XHTML or a mislabelled file under a type a browser would render', async () => {
    for (const index of [2, 3, 4]) {
      const res = await download(index);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type'), `attachment ${index}`).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    // Declared image/png but HTML inside: still only a download, nosniff keeps the browser from guessing.
    const fake = await download(5);
    expect(fake.headers.get('content-type')).toBe('image/png');
    expect(fake.headers.get('content-disposition')).toMatch(/^attachment; filename="fake.png"/);
  });

  it('answers 404 for a message the viewer may not see, exactly as for an unknown one', async () => {
    // Rita's mailbox is Custom and the sender is in no record: the admin (not her manager) may not see it.
    const hidden = await download(0, admin.cookie);
    expect(hidden.status).toBe(404);
    const unknown = await download(0, admin.cookie, crypto.randomUUID());
    expect(unknown.status).toBe(404);
    expect(await hidden.json()).toEqual(await unknown.json());
    expect((await download(6)).status).toBe(404);
    expect((await download(0, null)).status).toBe(401);
    expect((await h.app.request(`/api/messages/${messageId}/attachments/x`, { headers: { cookie: rep.cookie } })).status).toBe(400);
  });

  it('404s an orphaned message (expunged everywhere) like any other missing one', async () => {
    await t.db.query('update messages set orphaned_at = now() where id = $1', [messageId]);
    expect((await download(0)).status).toBe(404);
    await t.db.query('update messages set orphaned_at = null where id = $1', [messageId]);
  });
});

describe('attachment disposition', () => {
  it('keeps separators, controls and quotes out of the header', () => {
    expect(attachmentDisposition('../../etc/passwd')).toBe(`attachment; filename=".._.._etc_passwd"; filename*=UTF-8''.._.._etc_passwd`);
    expect(attachmentDisposition('a\r\nSet-Cookie: x=1')).toBe(`attachment; filename="a__Set-Cookie: x=1"; filename*=UTF-8''a__Set-Cookie%3A%20x%3D1`);
    expect(attachmentDisposition('')).toBe(`attachment; filename="attachment"; filename*=UTF-8''attachment`);
    expect(attachmentDisposition('报价 (v2).pdf')).toBe(`attachment; filename="__ (v2).pdf"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%20%28v2%29.pdf`);
  });
});
