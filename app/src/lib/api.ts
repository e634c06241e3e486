/**
 * @module app/lib/api
 * The typed HTTP client for the Shoal JSON API, and the only module in the app
 * that calls `fetch`. Every function is typed by the shared contract in
 * `sync/api.ts`; a non-2xx response becomes an {@link ApiError}.
 */
import { ERROR_CODES } from '$sync/api';
import type {
  AcceptInviteInput,
  ApiErrorBody,
  AuthStateDto,
  CreateInviteInput,
  ConnectionTestDto,
  CreatedInviteDto,
  ErrorCode,
  GroupDto,
  GroupInput,
  GroupListDto,
  GroupMembersInput,
  InviteListDto,
  InvitePreviewDto,
  LogInInput,
  MailAccountDto,
  MailAccountInput,
  MailAccountListDto,
  MailAccountUpdateInput,
  MeDto,
  MessageSeenDto,
  OrgDto,
  OutboundDto,
  PeopleListDto,
  PersonDto,
  PresetListDto,
  SendMailInput,
  SignatureDto,
  SignatureInput,
  SignUpInput,
  UpdatePersonInput,
} from '$sync/api';
import type {
  AdminEmailSharingDto,
  AdminEmailSharingInput,
  EmailSharingDto,
  EmailSharingInput,
  OrganizationSettingsInput,
  PersonEmailSharingDto,
} from '$sync/sharing-api';
import type { ImageSignInput, RecordEmailsDto, SignedImagesDto, VisibilityExplanationDto } from '$sync/mail-api';
import type {
  MailCountsDto,
  MessageListDto,
  NotificationListDto,
  ThreadDto,
  ThreadLane,
  ThreadListDto,
  ThreadView,
} from '$sync/mail-api';
import type {
  CreateRecordInput,
  ImportReportDto,
  ImportType,
  RecordDto,
  RecordListDto,
  RecordListQuery,
  RecordSharesDto,
  RecordSharesInput,
  ShareFlagDto,
  ShareFlagInput,
  UpdateRecordInput,
} from '$sync/records-api';
import type {
  ConversionRuleDto,
  ConversionRuleInput,
  ConversionRuleListDto,
  ConversionRulePatch,
  ConvertSenderDto,
  ConvertSenderInput,
} from '$sync/conversion-api';

type Fetch = typeof fetch;
type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

const KNOWN_CODES = new Set<string>(Object.values(ERROR_CODES));

/** A failed API call: the HTTP status (0 when the server was unreachable) and the server's error body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  /**
   * @param status HTTP status, or 0 for a network failure.
   * @param code Stable error code from `ERROR_CODES`.
   * @param message Human-readable message, safe to show.
   * @param field Dotted path of the offending input, when the server named one.
   * @param retryAfter Seconds to wait before retrying (from `Retry-After`), when sent.
   * @param details Machine-readable context the server sent for some codes (e.g. `address_taken`).
   */
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field: string | null = null,
    readonly retryAfter: number | null = null,
    readonly details: Record<string, string> | null = null,
  ) {
    super(message);
  }
}

/** Parses `Retry-After` (delta-seconds or an HTTP date) into whole seconds. */
function parseRetryAfter(value: string | null): number | null {
  if (!value) {
    return null;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    return Math.max(0, Math.ceil(seconds));
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) {
    return ERROR_CODES.authRequired;
  }
  if (status === 403) {
    return ERROR_CODES.forbidden;
  }
  if (status === 404) {
    return ERROR_CODES.notFound;
  }
  if (status === 409) {
    return ERROR_CODES.conflict;
  }
  if (status === 413) {
    return ERROR_CODES.payloadTooLarge;
  }
  if (status === 429) {
    return ERROR_CODES.tooManyAttempts;
  }
  if (status === 502 || status === 503 || status === 504) {
    return ERROR_CODES.unavailable;
  }
  return status >= 500 ? ERROR_CODES.internal : ERROR_CODES.badRequest;
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) {
    return false;
  }
  const error: unknown = value.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    'message' in error &&
    typeof error.message === 'string'
  );
}

async function toApiError(response: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  const body: unknown = await response.json().catch(() => null);
  if (isErrorBody(body)) {
    const { code, message, field, details } = body.error;
    const known = KNOWN_CODES.has(code) ? code : codeForStatus(response.status);
    return new ApiError(response.status, known, message, field ?? null, retryAfter, details ?? null);
  }
  const message =
    response.status >= 500
      ? 'Shoal ran into a problem. Please try again in a moment.'
      : `The request failed (${response.status}).`;
  return new ApiError(response.status, codeForStatus(response.status), message, null, retryAfter);
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * Builds a client bound to one `fetch` implementation. Route `load` functions
 * pass SvelteKit's `fetch`; everything else uses the default {@link api}.
 * @param fetchImpl The fetch to call; defaults to the global one, resolved per call.
 * @returns Named, typed functions for every API endpoint the app uses.
 */
export function createApi(fetchImpl?: Fetch) {
  /**
   * `raw` sends `body` as it is (e.g. a CSV file) with that content type instead of as JSON;
   * `binary` answers the body as a Blob (attachments) instead of parsing JSON.
   */
  async function request<T>(method: Method, path: string, body?: unknown, raw?: { contentType: string }, binary = false): Promise<T> {
    const doFetch = fetchImpl ?? fetch;
    const init: RequestInit = {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    };
    if (raw) {
      init.headers = { Accept: 'application/json', 'Content-Type': raw.contentType };
      init.body = body as BodyInit;
    } else if (method !== 'GET') {
      // Mutations are JSON, except uploads (above); the server's Origin check covers both.
      init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body ?? {});
    }
    let response: Response;
    try {
      response = await doFetch(`/api${path}`, init);
    } catch (error) {
      if (isAbort(error)) {
        throw error;
      }
      throw new ApiError(
        0,
        ERROR_CODES.unavailable,
        "Can't reach Shoal. Check your connection and try again.",
      );
    }
    if (!response.ok) {
      throw await toApiError(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    if (binary) {
      return (await response.blob()) as T;
    }
    return (await response.json()) as T;
  }

  const id = (value: string) => encodeURIComponent(value);
  /** `?a=1&b=x` from the defined, non-empty values. */
  const query = (params: object) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== '') {
        search.set(key, String(value));
      }
    }
    const text = search.toString();
    return text ? `?${text}` : '';
  };

  return {
    getAuthState: () => request<AuthStateDto>('GET', '/auth/state'),
    signUp: (input: SignUpInput) => request<MeDto>('POST', '/auth/signup', input),
    logIn: (input: LogInInput) => request<MeDto>('POST', '/auth/login', input),
    logOut: () => request<void>('POST', '/auth/logout'),
    logOutAll: () => request<void>('POST', '/auth/logout-all'),
    getMe: () => request<MeDto>('GET', '/me'),
    getMySignature: () => request<SignatureDto>('GET', '/me/signature'),
    updateMySignature: (input: SignatureInput) => request<SignatureDto>('PUT', '/me/signature', input),

    getInvitePreview: (token: string) => request<InvitePreviewDto>('GET', `/invites/${id(token)}`),
    acceptInvite: (token: string, input: AcceptInviteInput) =>
      request<MeDto>('POST', `/invites/${id(token)}/accept`, input),

    listPeople: () => request<PeopleListDto>('GET', '/people'),
    updatePerson: (personId: string, input: UpdatePersonInput) =>
      request<PersonDto>('PATCH', `/people/${id(personId)}`, input),
    deactivatePerson: (personId: string) =>
      request<PersonDto>('POST', `/people/${id(personId)}/deactivate`),
    reactivatePerson: (personId: string) =>
      request<PersonDto>('POST', `/people/${id(personId)}/reactivate`),

    listInvites: () => request<InviteListDto>('GET', '/people/invites'),
    createInvite: (input: CreateInviteInput) =>
      request<CreatedInviteDto>('POST', '/people/invites', input),
    revokeInvite: (inviteId: string) => request<void>('DELETE', `/people/invites/${id(inviteId)}`),

    listGroups: () => request<GroupListDto>('GET', '/groups'),
    createGroup: (input: GroupInput) => request<GroupDto>('POST', '/groups', input),
    renameGroup: (groupId: string, input: GroupInput) =>
      request<GroupDto>('PATCH', `/groups/${id(groupId)}`, input),
    deleteGroup: (groupId: string) => request<void>('DELETE', `/groups/${id(groupId)}`),
    setGroupMembers: (groupId: string, input: GroupMembersInput) =>
      request<GroupDto>('PUT', `/groups/${id(groupId)}/members`, input),

    listMailPresets: () => request<PresetListDto>('GET', '/mail/presets'),
    testMailConnection: (input: MailAccountInput) =>
      request<ConnectionTestDto>('POST', '/mail/test-connection', input),
    listMailAccounts: () => request<MailAccountListDto>('GET', '/mail/accounts'),
    /** Admins only: every mailbox of the organization (sync health). */
    listAllMailAccounts: () => request<MailAccountListDto>('GET', '/mail/accounts/all'),
    getMailAccount: (accountId: string) =>
      request<MailAccountDto>('GET', `/mail/accounts/${id(accountId)}`),
    connectMailAccount: (input: MailAccountInput) =>
      request<MailAccountDto>('POST', '/mail/accounts', input),
    /** Owner only; changed servers are probed before anything is saved. */
    updateMailAccount: (accountId: string, input: MailAccountUpdateInput) =>
      request<MailAccountDto>('PATCH', `/mail/accounts/${id(accountId)}`, input),
    /** Probes both servers as they would be after the change; saves nothing. */
    testMailAccountUpdate: (accountId: string, input: MailAccountUpdateInput) =>
      request<ConnectionTestDto>('POST', `/mail/accounts/${id(accountId)}/test-connection`, input),
    disconnectMailAccount: (accountId: string) =>
      request<void>('DELETE', `/mail/accounts/${id(accountId)}`),

    getMyEmailSharing: () => request<EmailSharingDto>('GET', '/me/email-sharing'),
    updateMyEmailSharing: (input: EmailSharingInput) =>
      request<EmailSharingDto>('PUT', '/me/email-sharing', input),
    /** Admins only: everyone's setting, with stats. */
    listEmailSharing: () => request<AdminEmailSharingDto>('GET', '/admin/email-sharing'),
    /** Admins only: change (and lock or unlock) someone's setting. */
    updateEmailSharing: (userId: string, input: AdminEmailSharingInput) =>
      request<PersonEmailSharingDto>('PUT', `/admin/email-sharing/${id(userId)}`, input),
    /** Admins only. */
    getOrganization: () => request<OrgDto>('GET', '/admin/organization'),
    /** Admins only: record access. */
    updateOrganization: (input: OrganizationSettingsInput) =>
      request<OrgDto>('PUT', '/admin/organization', input),

    listRecords: (params: RecordListQuery) => request<RecordListDto>('GET', `/records${query(params)}`),
    getRecord: (recordId: string) => request<RecordDto>('GET', `/records/${id(recordId)}`),
    createRecord: (input: CreateRecordInput) => request<RecordDto>('POST', '/records', input),
    updateRecord: (recordId: string, input: UpdateRecordInput) =>
      request<RecordDto>('PATCH', `/records/${id(recordId)}`, input),
    deleteRecord: (recordId: string) => request<void>('DELETE', `/records/${id(recordId)}`),
    setRecordShares: (recordId: string, input: RecordSharesInput) =>
      request<RecordSharesDto>('PUT', `/records/${id(recordId)}/shares`, input),
    setShareFlag: (recordId: string, input: ShareFlagInput) =>
      request<ShareFlagDto>('PUT', `/records/${id(recordId)}/share-flag`, input),
    /** Uploads a CSV of leads or contacts; the report lists every row that was not imported. */
    importRecords: (type: ImportType, file: Blob) =>
      request<ImportReportDto>('POST', `/records/import${query({ type })}`, file, { contentType: 'text/csv' }),
    listRecordEmails: (recordId: string, params: { owner?: string; cursor?: string } = {}) =>
      request<RecordEmailsDto>('GET', `/records/${id(recordId)}/emails${query(params)}`),
    /** One attachment's bytes (a message the viewer may see; 404 otherwise). */
    getAttachment: (messageId: string, index: number) =>
      request<Blob>('GET', `/messages/${id(messageId)}/attachments/${index}`, undefined, undefined, true),
    /** Signed image-proxy paths for remote images the viewer chose to show. */
    signImages: (input: ImageSignInput) => request<SignedImagesDto>('POST', '/image-proxy/sign', input),
    explainVisibility: (messageId: string) =>
      request<VisibilityExplanationDto>('GET', `/messages/${id(messageId)}/visibility`),

    /** Threads the viewer may see, newest activity first; pass `nextCursor` back for the next page. */
    listThreads: (params: { view: ThreadView; owner?: string; lane: ThreadLane; q?: string; cursor?: string; limit?: number }) =>
      request<ThreadListDto>('GET', `/threads${query(params)}`),
    /** One thread with only the messages the viewer may see (404 when none). */
    getThread: (threadId: string) => request<ThreadDto>('GET', `/threads/${id(threadId)}`),
    searchMail: (params: { q: string; cursor?: string; limit?: number }) =>
      request<MessageListDto>('GET', `/mail/search${query(params)}`),
    mailCounts: () => request<MailCountsDto>('GET', '/mail/counts'),
    /** Only the viewer's own mailbox messages; the flag is set on the mail server first. */
    markMessageSeen: (messageId: string, seen: boolean) =>
      request<MessageSeenDto>('POST', `/mail/messages/${id(messageId)}/seen`, { seen }),
    /** Sends (or, for an id already used, re-reports) a message; the id makes a retry safe. */
    sendMail: (input: SendMailInput) => request<OutboundDto>('POST', '/mail/send', input),
    getOutbound: (outboundId: string) => request<OutboundDto>('GET', `/mail/outbound/${id(outboundId)}`),
    listNotifications: () => request<NotificationListDto>('GET', '/notifications'),
    /** `ids: null` marks every notification read. */
    markNotificationsRead: (ids: string[] | null) =>
      request<{ updated: number }>('POST', '/notifications/read', { ids }),
    /** Makes one of a message's other parties a lead or contact; `created` is false when it already was one. */
    convertSender: (messageId: string, input: ConvertSenderInput) =>
      request<ConvertSenderDto>('POST', `/messages/${id(messageId)}/convert`, input),
    /** Admins only: conversion rules, first rule first. */
    listConversionRules: () => request<ConversionRuleListDto>('GET', '/admin/conversion-rules'),
    createConversionRule: (input: ConversionRuleInput) =>
      request<ConversionRuleDto>('POST', '/admin/conversion-rules', input),
    updateConversionRule: (ruleId: string, input: ConversionRulePatch) =>
      request<ConversionRuleDto>('PATCH', `/admin/conversion-rules/${id(ruleId)}`, input),
    deleteConversionRule: (ruleId: string) => request<void>('DELETE', `/admin/conversion-rules/${id(ruleId)}`),
    /** Every rule id, first rule first. */
    reorderConversionRules: (ids: string[]) =>
      request<ConversionRuleListDto>('PUT', '/admin/conversion-rules/order', { ids }),
  };
}

/** The client type, for code that receives one. */
export type Api = ReturnType<typeof createApi>;

/** The default client, using the global `fetch`. */
export const api: Api = createApi();
