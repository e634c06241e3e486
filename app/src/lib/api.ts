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
  MeDto,
  PeopleListDto,
  PersonDto,
  PresetListDto,
  SignUpInput,
  UpdatePersonInput,
} from '$sync/api';

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
   */
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field: string | null = null,
    readonly retryAfter: number | null = null,
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
    const { code, message, field } = body.error;
    const known = KNOWN_CODES.has(code) ? code : codeForStatus(response.status);
    return new ApiError(response.status, known, message, field ?? null, retryAfter);
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
  async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const doFetch = fetchImpl ?? fetch;
    const init: RequestInit = {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    };
    if (method !== 'GET') {
      // Every mutation is JSON; the server's CSRF guard relies on it.
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
    return (await response.json()) as T;
  }

  const id = (value: string) => encodeURIComponent(value);

  return {
    getAuthState: () => request<AuthStateDto>('GET', '/auth/state'),
    signUp: (input: SignUpInput) => request<MeDto>('POST', '/auth/signup', input),
    logIn: (input: LogInInput) => request<MeDto>('POST', '/auth/login', input),
    logOut: () => request<void>('POST', '/auth/logout'),
    logOutAll: () => request<void>('POST', '/auth/logout-all'),
    getMe: () => request<MeDto>('GET', '/me'),

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
    disconnectMailAccount: (accountId: string) =>
      request<void>('DELETE', `/mail/accounts/${id(accountId)}`),
  };
}

/** The client type, for code that receives one. */
export type Api = ReturnType<typeof createApi>;

/** The default client, using the global `fetch`. */
export const api: Api = createApi();
