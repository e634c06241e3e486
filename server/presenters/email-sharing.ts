/**
 * @module server/presenters/email-sharing
 * Email sharing rows → the JSON of sync/sharing-api.ts, and the admin page's
 * stats, counted from the same rows so the table and the cards never disagree.
 */
import type { PersonSharingRow } from '../../db/queries/email-sharing';
import type {
  AdminEmailSharingDto,
  EmailSharingDto,
  EmailSharingStatsDto,
  PersonEmailSharingDto,
} from '../../sync/sharing-api';

/** One person's setting. */
export function presentEmailSharing(row: PersonSharingRow): EmailSharingDto {
  return {
    mode: row.mode,
    excludedDomains: row.excludedDomains,
    audience: row.restricted ? { userIds: row.audienceUserIds, groupIds: row.audienceGroupIds } : null,
    locked: row.locked,
    updatedBy: row.updatedById && row.updatedByName ? { id: row.updatedById, name: row.updatedByName } : null,
    updatedAt: row.updatedAt ? row.updatedAt.toISOString() : null,
  };
}

/** A person with their setting, for the admin table. */
export function presentPersonSharing(row: PersonSharingRow): PersonEmailSharingDto {
  return {
    person: { id: row.userId, name: row.name, email: row.email, active: row.active },
    setting: presentEmailSharing(row),
  };
}

/**
 * Counts over active people. The audience and excluded domains count only
 * where they apply: a Private mailbox shares nothing, so it excludes nothing.
 */
export function sharingStats(rows: readonly PersonSharingRow[]): EmailSharingStatsDto {
  const stats: EmailSharingStatsDto = { public: 0, custom: 0, private: 0, locked: 0, restricted: 0, excludedDomains: [] };
  const domains = new Map<string, number>();
  for (const row of rows) {
    if (!row.active) {
      continue;
    }
    stats[row.mode] += 1;
    stats.locked += row.locked ? 1 : 0;
    if (row.mode === 'private') {
      continue;
    }
    stats.restricted += row.restricted ? 1 : 0;
    for (const domain of row.excludedDomains) {
      domains.set(domain, (domains.get(domain) ?? 0) + 1);
    }
  }
  stats.excludedDomains = [...domains]
    .map(([domain, people]) => ({ domain, people }))
    .sort((a, b) => b.people - a.people || a.domain.localeCompare(b.domain));
  return stats;
}

/** The admin "Email sharing" page. */
export function presentAdminEmailSharing(rows: readonly PersonSharingRow[]): AdminEmailSharingDto {
  return { people: rows.map(presentPersonSharing), stats: sharingStats(rows) };
}
