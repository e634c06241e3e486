/**
 * @module server/mail/account-input
 * Validation of mailbox settings, shared by "test connection" and "connect".
 */
import { z } from 'zod';
import { MAIL_AUTH_KINDS, MAIL_SECURITY, type MailAccountInput, type MailAccountUpdateInput } from '../../sync/api';
import { EmailSchema } from '../schemas';
import type { EndpointSettings } from './connection';

const HostSchema = z
  .string({ error: 'is required' })
  .trim()
  .toLowerCase()
  .min(1, 'is required')
  .max(253, 'is too long')
  .regex(/^[a-z0-9.-]+$|^\[?[0-9a-f:.]+\]?$/, 'must be a host name like imap.example.com');

const ServerSchema = z.object({
  host: HostSchema,
  port: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be 1–65535').max(65535, 'must be 1–65535'),
  security: z.enum(MAIL_SECURITY, { error: 'must be tls, starttls or none' }),
});

const Secret = z.string({ error: 'is required' }).min(1, 'is required').max(4096, 'is too long');

const FromAddressesSchema = z
  .array(z.object({ address: EmailSchema, name: z.string().trim().max(120).nullable().optional() }))
  .max(20, 'at most 20 From addresses');

export const MailAccountSchema = z
  .object({
    label: z.string().trim().max(120, 'must be at most 120 characters').optional(),
    email: EmailSchema,
    provider: z.string().trim().min(1).max(40),
    imap: ServerSchema.extend({ user: z.string().trim().min(1, 'is required').max(320), password: Secret }),
    smtp: ServerSchema.extend({ user: z.string().trim().max(320).optional(), password: Secret.optional() }),
    smtpSameCredentials: z.boolean({ error: 'must be true or false' }),
    storeSent: z.boolean({ error: 'must be true or false' }),
    fromAddresses: FromAddressesSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.smtpSameCredentials && !v.smtp.user) {
      ctx.addIssue({ code: 'custom', path: ['smtp', 'user'], message: 'is required unless outgoing uses the same credentials' });
    }
    if (!v.smtpSameCredentials && !v.smtp.password) {
      ctx.addIssue({ code: 'custom', path: ['smtp', 'password'], message: 'is required unless outgoing uses the same credentials' });
    }
  }) satisfies z.ZodType<MailAccountInput, unknown>;

export type ValidMailAccountInput = z.output<typeof MailAccountSchema>;

const Fixed = (message: string) => z.never({ error: message }).optional();
const User = z.string().trim().min(1, 'is required').max(320, 'is too long');

/** A settings change: every field optional; the rules that need the stored account live in account-update.ts. */
export const MailAccountUpdateSchema = z
  .object({
    email: Fixed('cannot be changed; connect the other address as a new mailbox'),
    provider: Fixed('cannot be changed; set the servers instead'),
    label: z.string().trim().max(120, 'must be at most 120 characters').optional(),
    authKind: z.enum(MAIL_AUTH_KINDS, { error: 'must be password or oauth2' }).optional(),
    imap: ServerSchema.partial().extend({ user: User.optional(), password: Secret.optional() }).strict().optional(),
    smtp: ServerSchema.partial().extend({ user: User.optional(), password: Secret.optional() }).strict().optional(),
    smtpSameCredentials: z.boolean({ error: 'must be true or false' }).optional(),
    storeSent: z.boolean({ error: 'must be true or false' }).optional(),
    fromAddresses: FromAddressesSchema.optional(),
  })
  .strict() satisfies z.ZodType<MailAccountUpdateInput, unknown>;

export type ValidMailAccountUpdate = z.output<typeof MailAccountUpdateSchema>;

/** The two endpoints with their (password) credentials. */
export function endpointsOf(input: ValidMailAccountInput): { imap: EndpointSettings; smtp: EndpointSettings } {
  const imap: EndpointSettings = {
    host: input.imap.host,
    port: input.imap.port,
    security: input.imap.security,
    user: input.imap.user,
    credential: { kind: 'password', password: input.imap.password },
  };
  const smtp: EndpointSettings = {
    host: input.smtp.host,
    port: input.smtp.port,
    security: input.smtp.security,
    user: input.smtpSameCredentials ? input.imap.user : (input.smtp.user ?? ''),
    credential: { kind: 'password', password: input.smtpSameCredentials ? input.imap.password : (input.smtp.password ?? '') },
  };
  return { imap, smtp };
}
