/**
 * Which folders a mailbox worker mirrors, by SPECIAL-USE (RFC 6154), on an
 * ordinary server and on Gmail, and the order it syncs them in.
 */
import { describe, expect, it } from 'vitest';
import { folderRole, planFolders, syncOrder, type ListedFolder } from '../../server/ingest/folders';

const folder = (path: string, specialUse?: string, flags: string[] = []): ListedFolder => ({
  path,
  delimiter: '/',
  flags: new Set(flags),
  ...(specialUse ? { specialUse } : {}),
});

/** Dovecot / Fastmail style: special-use folders under any name, plus people's own. */
const ordinary = [
  folder('Projects/Acme'),
  folder('Trash', '\\Trash'),
  folder('INBOX'),
  folder('Gesendet', '\\Sent'),
  folder('Archive', '\\Archive'),
  folder('Drafts', '\\Drafts'),
  folder('Spam', '\\Junk'),
  folder('Projects', undefined, ['\\Noselect', '\\HasChildren']),
  folder('Gone', undefined, ['\\NonExistent']),
  folder('Virtual/All', '\\All'),
];

/** Gmail: every label is a folder, and each message lives once in All Mail. */
const gmail = [
  folder('INBOX'),
  folder('[Gmail]', undefined, ['\\Noselect', '\\HasChildren']),
  folder('[Gmail]/All Mail', '\\All'),
  folder('[Gmail]/Sent Mail', '\\Sent'),
  folder('[Gmail]/Drafts', '\\Drafts'),
  folder('[Gmail]/Spam', '\\Junk'),
  folder('[Gmail]/Trash', '\\Trash'),
  folder('[Gmail]/Starred', '\\Flagged'),
  folder('Customers'),
];

describe('folderRole', () => {
  it('reads the role from SPECIAL-USE, whatever the folder is called', () => {
    expect(ordinary.map((f) => [f.path, folderRole(f)])).toEqual([
      ['Projects/Acme', 'other'],
      ['Trash', 'trash'],
      ['INBOX', 'inbox'],
      ['Gesendet', 'sent'],
      ['Archive', 'archive'],
      ['Drafts', 'drafts'],
      ['Spam', 'junk'],
      ['Projects', 'other'],
      ['Gone', 'other'],
      ['Virtual/All', 'all'],
    ]);
  });

  it('knows the inbox by its reserved name in any case, and ignores unknown special uses', () => {
    expect(folderRole(folder('Inbox'))).toBe('inbox');
    expect(folderRole(folder('[Gmail]/Starred', '\\Flagged'))).toBe('other');
  });
});

describe('planFolders', () => {
  it('mirrors every selectable folder except a virtual All on an ordinary server, inbox first, then Sent', () => {
    const plan = planFolders(ordinary, false).sort(syncOrder);
    expect(plan.map((p) => [p.path, p.role])).toEqual([
      ['INBOX', 'inbox'],
      ['Gesendet', 'sent'],
      ['Archive', 'archive'],
      ['Drafts', 'drafts'],
      ['Projects/Acme', 'other'],
      ['Spam', 'junk'],
      ['Trash', 'trash'],
    ]);
    expect(plan.every((p) => p.selectable && p.delimiter === '/')).toBe(true);
  });

  it('mirrors only All Mail, Spam and Trash on Gmail, so a labelled message is stored once', () => {
    const plan = planFolders(gmail, true).sort(syncOrder);
    expect(plan.map((p) => [p.path, p.role])).toEqual([
      ['[Gmail]/All Mail', 'all'],
      ['[Gmail]/Spam', 'junk'],
      ['[Gmail]/Trash', 'trash'],
    ]);
  });
});
