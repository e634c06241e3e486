/**
 * @module server/ingest/folders
 * Which server folders Shoal mirrors, and what each one is for, from
 * SPECIAL-USE (RFC 6154) flags. On Gmail, folders are labels, so only All
 * Mail, Junk and Trash are synced (every message lives in All Mail once).
 */

export const FOLDER_ROLES = {
  inbox: 'inbox',
  sent: 'sent',
  archive: 'archive',
  drafts: 'drafts',
  trash: 'trash',
  junk: 'junk',
  all: 'all',
  other: 'other',
} as const;
export type FolderRole = (typeof FOLDER_ROLES)[keyof typeof FOLDER_ROLES];

const SPECIAL_USE: Record<string, FolderRole> = {
  '\\Sent': 'sent',
  '\\Archive': 'archive',
  '\\Drafts': 'drafts',
  '\\Trash': 'trash',
  '\\Junk': 'junk',
  '\\All': 'all',
};

export interface ListedFolder {
  path: string;
  delimiter: string;
  flags: Set<string>;
  specialUse?: string;
}

export interface FolderPlan {
  path: string;
  delimiter: string;
  role: FolderRole;
  selectable: boolean;
}

/** The role of a listed folder. */
export function folderRole(folder: ListedFolder): FolderRole {
  if (folder.path.toUpperCase() === 'INBOX') {
    return 'inbox';
  }
  return (folder.specialUse && SPECIAL_USE[folder.specialUse]) || 'other';
}

/**
 * Chooses the folders to mirror.
 * @param gmail whether the server is Gmail (`X-GM-EXT-1`).
 */
export function planFolders(listed: readonly ListedFolder[], gmail: boolean): FolderPlan[] {
  const plans = listed.map((f) => ({
    path: f.path,
    delimiter: f.delimiter,
    role: folderRole(f),
    selectable: !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'),
  }));
  const wanted = gmail
    ? plans.filter((p) => p.role === 'all' || p.role === 'junk' || p.role === 'trash')
    : plans.filter((p) => p.role !== 'all');
  return wanted.filter((p) => p.selectable);
}

/** Inbox first (IDLE target and what people look at), then by role and path. */
export function syncOrder(a: FolderPlan, b: FolderPlan): number {
  const rank = (p: FolderPlan) => (p.role === 'inbox' || p.role === 'all' ? 0 : p.role === 'sent' ? 1 : 2);
  return rank(a) - rank(b) || a.path.localeCompare(b.path);
}
