/**
 * @module sync/mail-api
 * The JSON contract of the APIs that return mail. Every one of them filters
 * through the visibility rules (sync/visibility.ts and its SQL twin), so
 * lists, counts, previews and search show only what the viewer may see.
 */
import type { RecordType } from './sharing';

export interface PersonRefDto {
  id: string;
  name: string;
}

export interface RecordRefDto {
  id: string;
  type: RecordType;
  name: string;
}

export interface AddressDto {
  address: string;
  name: string | null;
}

/** Which threads a list shows. `person` needs `owner`: one mailbox owner's mail that the viewer may see. */
export const THREAD_VIEWS = ['team', 'mine', 'person'] as const;
export type ThreadView = (typeof THREAD_VIEWS)[number];

/** SalesInbox lanes, most valuable first: by how the thread's other parties relate to the CRM. */
export const THREAD_LANES = ['all', 'deals', 'contacts_leads', 'not_in_crm', 'colleagues'] as const;
export type ThreadLane = (typeof THREAD_LANES)[number];

/** A conversation as the viewer may see it: counts, preview and participants come from visible messages only. */
export interface ThreadSummaryDto {
  id: string;
  subject: string;
  snippet: string;
  lastMessageAt: string;
  messageCount: number;
  unreadCount: number;
  from: AddressDto | null;
  participants: AddressDto[];
  mailboxOwners: PersonRefDto[];
  /** Linked records the viewer can access. */
  records: RecordRefDto[];
}

export interface ThreadListDto {
  threads: ThreadSummaryDto[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface AttachmentDto {
  index: number;
  filename: string | null;
  contentType: string;
  size: number;
  /** Content-ID (no angle brackets): the HTML body shows it where it says `cid:<contentId>`. */
  contentId: string | null;
}

/** `POST /api/image-proxy/sign`: remote image addresses of a message the viewer chose to show. */
export interface ImageSignInput {
  urls: string[];
}

/** Each address with the same-origin proxy path that serves it (signed for the viewer, time-limited). */
export interface SignedImagesDto {
  images: { url: string; src: string }[];
}

export interface MessageDto {
  id: string;
  threadId: string;
  accountId: string;
  mailboxOwner: PersonRefDto;
  subject: string;
  from: AddressDto | null;
  to: AddressDto[];
  cc: AddressDto[];
  replyTo: AddressDto[];
  date: string;
  snippet: string;
  text: string | null;
  /** Raw HTML: the app sanitizes it right before rendering, in a sandboxed frame. */
  html: string | null;
  attachments: AttachmentDto[];
  seen: boolean;
  direction: 'inbound' | 'outbound';
  sentFromShoal: boolean;
  records: RecordRefDto[];
}

export interface ThreadDto {
  id: string;
  subject: string;
  messages: MessageDto[];
}

/** A message in a list (record emails, search): no bodies. */
export interface MessageSummaryDto {
  id: string;
  threadId: string;
  subject: string;
  snippet: string;
  from: AddressDto | null;
  to: AddressDto[];
  date: string;
  mailboxOwner: PersonRefDto;
  direction: 'inbound' | 'outbound';
  sentFromShoal: boolean;
  seen: boolean;
}

export interface MessageListDto {
  messages: MessageSummaryDto[];
  nextCursor: string | null;
}

/** The Emails related list of a record. `owners` lists the mailbox owners to filter by ("All" or one person). */
export interface RecordEmailsDto extends MessageListDto {
  owners: PersonRefDto[];
}

export interface MailCountsDto {
  total: number;
  unread: number;
  byOwner: { owner: PersonRefDto; total: number; unread: number }[];
}

/** "Why can I see this?" */
export interface VisibilityExplanationDto {
  visible: boolean;
  rule: string;
  steps: string[];
}

export interface NotificationDto {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

export interface NotificationListDto {
  notifications: NotificationDto[];
  unread: number;
}
