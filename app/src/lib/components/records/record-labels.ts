/**
 * @module app/lib/components/records/record-labels
 * Words for record types, stages and sorts, and the URL of a record's page.
 */
import { RECORD_TYPES, type DealStage, type RecordType } from '$sync/sharing';

export const TYPE_LABELS: Record<RecordType, { one: string; many: string }> = {
  lead: { one: 'Lead', many: 'Leads' },
  contact: { one: 'Contact', many: 'Contacts' },
  account: { one: 'Account', many: 'Accounts' },
  deal: { one: 'Deal', many: 'Deals' },
};

export const STAGE_LABELS: Record<DealStage, string> = { open: 'Open', won: 'Won', lost: 'Lost' };

export const STAGE_TONES = { open: 'accent', won: 'success', lost: 'neutral' } as const satisfies Record<DealStage, string>;

export function isRecordType(value: string): value is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(value);
}

export function recordPath(record: { type: RecordType; id: string }): string {
  return `/records/${record.type}/${record.id}`;
}

/** A lowercase noun with its article: "a lead", "an account". */
export function withArticle(type: RecordType): string {
  const word = TYPE_LABELS[type].one.toLowerCase();
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}
