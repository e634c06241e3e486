/**
 * @module server/schemas
 * Input schemas shared by several routes. Emails are trimmed and lowercased
 * here, once, so every query sees one normal form.
 */
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN, ROLES } from '../sync/api';

export const EmailSchema = z
  .string({ error: 'is required' })
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email({ error: 'must be an email address like name@example.com' }));

export const PasswordSchema = z
  .string({ error: 'is required' })
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`);

export const NameSchema = z
  .string({ error: 'is required' })
  .trim()
  .min(1, 'must not be empty')
  .max(120, 'must be at most 120 characters');

export const RoleSchema = z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` });

export const IdSchema = z.uuid({ error: 'must be an id' });

export const IdParamSchema = z.object({ id: IdSchema });
