/**
 * @module server/commands/sign-up
 * The first sign-up creates the organization and its admin.
 */
import { isUniqueViolation } from '../../db/errors';
import { countOrganizations, insertOrganization, lockOrganizationCreation } from '../../db/queries/organizations';
import { insertUser } from '../../db/queries/users';
import { ERROR_CODES } from '../../sync/api';
import { hashPassword } from '../auth/password';
import { createSession } from '../auth/session';
import type { Deps } from '../context';
import { HttpError } from '../errors';
import type { Config } from '../env';

export interface SignUpResult {
  orgId: string;
  userId: string;
  token: string;
  expiresAt: Date;
}

/**
 * Whether a new organization may be created now.
 * @param organizations how many exist.
 */
export function signupOpen(mode: Config['signup'], organizations: number): boolean {
  if (mode === 'open') {
    return true;
  }
  return mode === 'first' && organizations === 0;
}

/**
 * Creates an organization, its first admin and their session.
 * @throws {HttpError} 403 `signup_closed`, 409 `email_taken`.
 */
export async function signUp(
  deps: Deps,
  input: { orgName: string; name: string; email: string; password: string },
): Promise<SignUpResult> {
  const passwordHash = await hashPassword(input.password);
  const now = deps.now();
  try {
    return await deps.db.transaction(async (tx) => {
      await lockOrganizationCreation(tx);
      if (!signupOpen(deps.config.signup, await countOrganizations(tx))) {
        throw new HttpError(403, ERROR_CODES.signupClosed, 'Sign-up is closed; ask an admin of your organization for an invite');
      }
      const org = await insertOrganization(tx, { id: crypto.randomUUID(), name: input.orgName });
      const user = await insertUser(tx, {
        id: crypto.randomUUID(),
        orgId: org.id,
        email: input.email,
        name: input.name,
        passwordHash,
        role: 'admin',
        managerId: null,
      });
      const { token, session } = await createSession(tx, user.id, now);
      return { orgId: org.id, userId: user.id, token, expiresAt: session.expiresAt };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HttpError(409, ERROR_CODES.emailTaken, 'An account with this email already exists', 'email');
    }
    throw error;
  }
}
