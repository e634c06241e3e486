/**
 * @module sync/records-api
 * The JSON contract of the CRM records API (`/api/records`): leads, contacts,
 * accounts and deals, their addresses, shares, the Custom-mode "share emails"
 * flag and CSV import. Types and small constants only.
 */
import type { PersonRefDto, RecordRefDto } from './mail-api';
import type { DealStage, RecordType } from './sharing';

export const RECORD_SORTS = ['name', 'company', 'country', 'owner', 'created', 'updated'] as const;
export type RecordSort = (typeof RECORD_SORTS)[number];

export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];

/** Types a CSV import can create. */
export const IMPORT_TYPES = ['lead', 'contact'] as const;
export type ImportType = (typeof IMPORT_TYPES)[number];

export const RECORD_NAME_MAX = 200;
export const RECORD_COMPANY_MAX = 200;
/** Secondary addresses per record; more is a data problem, not a person. */
export const SECONDARY_EMAILS_MAX = 50;
/** Largest CSV the import accepts, in bytes. */
export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;
export const IMPORT_MAX_ROWS = 20_000;

/** A record in a list. */
export interface RecordSummaryDto {
  id: string;
  type: RecordType;
  name: string;
  company: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string | null;
  /** Deals only. */
  stage: DealStage | null;
  owner: PersonRefDto;
  primaryEmail: string | null;
  /** How many secondary addresses the record has. */
  secondaryCount: number;
  accountId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface RecordListDto {
  records: RecordSummaryDto[];
  /** How many records match the filters (that the viewer can access). */
  total: number;
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface RecordSharesDto {
  userIds: string[];
  groupIds: string[];
}

/** A record with everything its page shows. Related lists hold only records the viewer can access. */
export interface RecordDto extends RecordSummaryDto {
  secondaryEmails: string[];
  source: 'manual' | 'import' | 'conversion' | 'rule';
  createdBy: PersonRefDto | null;
  /** A contact's or deal's account. */
  account: RecordRefDto | null;
  /** A deal's contacts, or an account's contacts. */
  contacts: RecordRefDto[];
  /** A contact's deals, or an account's deals. */
  deals: RecordRefDto[];
  shares: RecordSharesDto;
  /** Whether the viewer's own mail about this record is shared (used when their mailbox is Custom). */
  myShareFlag: boolean;
  /** The owner, anyone above them, or an admin may delete the record and change its shares. */
  canDelete: boolean;
  canShare: boolean;
  /**
   * False only in the answer to an edit that moved the record out of the
   * editor's reach (handed to someone they are not above, under Private
   * record access): the change was made, and the record can no longer be opened.
   */
  accessible: boolean;
}

/** Create a record. Fields that do not apply to the type (e.g. `stage` on a lead) are refused. */
export interface CreateRecordInput {
  type: RecordType;
  name: string;
  company?: string;
  /** A code or an English name; stored as the alpha-2 code. */
  country?: string | null;
  /** Defaults to the creator. */
  ownerId?: string;
  primaryEmail?: string | null;
  secondaryEmails?: string[];
  /** Contacts and deals. */
  accountId?: string | null;
  /** Deals; defaults to open. */
  stage?: DealStage;
  /** Deals. */
  contactIds?: string[];
}

/** Change a record; absent fields stay, `secondaryEmails` and `contactIds` replace the lists. */
export type UpdateRecordInput = Partial<Omit<CreateRecordInput, 'type'>>;

export interface RecordListQuery {
  type?: RecordType;
  sort?: RecordSort;
  dir?: SortDirection;
  owner?: string;
  q?: string;
  country?: string;
  stage?: DealStage;
  cursor?: string;
  limit?: number;
}

export type RecordSharesInput = RecordSharesDto;

/** Set the caller's own "share emails" flag. `hlc` orders offline writes; without it the server stamps the write. */
export interface ShareFlagInput {
  shared: boolean;
  hlc?: string;
}

/** The flag as stored after the write; `applied` is false when a later write (by HLC) already won. */
export interface ShareFlagDto {
  recordId: string;
  shared: boolean;
  hlc: string;
  applied: boolean;
}

export const IMPORT_ROW_CODES = [
  'missing_name',
  'too_long',
  'bad_address',
  'duplicate',
  'unknown_owner',
  'bad_country',
  'too_many_addresses',
] as const;
export type ImportRowCode = (typeof IMPORT_ROW_CODES)[number];

/** One problem with one CSV row. `row` counts like a spreadsheet: the header is row 1. */
export interface ImportFailureDto {
  row: number;
  field: 'name' | 'email' | 'secondaryEmails' | 'company' | 'country' | 'owner';
  code: ImportRowCode;
  message: string;
}

export interface ImportReportDto {
  type: ImportType;
  /** Data rows read (blank lines are skipped). */
  rows: number;
  imported: number;
  /** Rows not imported; each appears in `failed` at least once. */
  failedRows: number;
  failed: ImportFailureDto[];
  /** Header cells that matched no known column and were ignored. */
  ignoredColumns: string[];
}
