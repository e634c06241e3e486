/**
 * @module server/records/record-input
 * Request schemas for the records API. Addresses and countries are
 * normalized here, once, so a bad one is a 400 naming its exact field
 * (`secondaryEmails.2`) and commands only ever see the normal form.
 */
import { z } from 'zod';
import { normalizeCountry } from '../../sync/countries';
import { RECORD_COMPANY_MAX, RECORD_NAME_MAX, RECORD_SORTS, SECONDARY_EMAILS_MAX, SORT_DIRECTIONS } from '../../sync/records-api';
import { DEAL_STAGES, RECORD_TYPES } from '../../sync/sharing';
import { normalizeAddress } from '../ingest/addresses';
import { IdSchema } from '../schemas';

const ADDRESS_MESSAGE = 'must be an email address like name@example.com';

const AddressSchema = z.string({ error: ADDRESS_MESSAGE }).transform((value, ctx) => {
  const address = normalizeAddress(value);
  if (!address) {
    ctx.addIssue({ code: 'custom', message: ADDRESS_MESSAGE });
    return z.NEVER;
  }
  return address;
});

/** An address, or null / '' for none. */
const OptionalAddressSchema = z
  .string({ error: ADDRESS_MESSAGE })
  .nullable()
  .transform((value, ctx) => {
    if (value === null || value.trim() === '') {
      return null;
    }
    const address = normalizeAddress(value);
    if (!address) {
      ctx.addIssue({ code: 'custom', message: ADDRESS_MESSAGE });
      return z.NEVER;
    }
    return address;
  });

const COUNTRY_MESSAGE = 'must be a country code like DE or a country name like Germany';

/** A country code or English name → its alpha-2 code; null / '' for none. */
export const CountrySchema = z
  .string({ error: COUNTRY_MESSAGE })
  .nullable()
  .transform((value, ctx) => {
    if (value === null || value.trim() === '') {
      return null;
    }
    const code = normalizeCountry(value);
    if (!code) {
      ctx.addIssue({ code: 'custom', message: COUNTRY_MESSAGE });
      return z.NEVER;
    }
    return code;
  });

const NameSchema = z
  .string({ error: 'is required' })
  .trim()
  .min(1, 'must not be empty')
  .max(RECORD_NAME_MAX, `must be at most ${RECORD_NAME_MAX} characters`);

const fields = {
  name: NameSchema,
  company: z.string({ error: 'must be text' }).trim().max(RECORD_COMPANY_MAX, `must be at most ${RECORD_COMPANY_MAX} characters`),
  country: CountrySchema,
  ownerId: IdSchema,
  primaryEmail: OptionalAddressSchema,
  secondaryEmails: z
    .array(AddressSchema, { error: 'must be a list of email addresses' })
    .max(SECONDARY_EMAILS_MAX, `must have at most ${SECONDARY_EMAILS_MAX} addresses`),
  accountId: IdSchema.nullable(),
  stage: z.enum(DEAL_STAGES, { error: `must be one of ${DEAL_STAGES.join(', ')}` }),
  contactIds: z.array(IdSchema, { error: 'must be a list of ids' }).max(500, 'must have at most 500 contacts'),
};

export const CreateRecordSchema = z.strictObject({
  type: z.enum(RECORD_TYPES, { error: `must be one of ${RECORD_TYPES.join(', ')}` }),
  name: fields.name,
  company: fields.company.optional(),
  country: fields.country.optional(),
  ownerId: fields.ownerId.optional(),
  primaryEmail: fields.primaryEmail.optional(),
  secondaryEmails: fields.secondaryEmails.optional(),
  accountId: fields.accountId.optional(),
  stage: fields.stage.optional(),
  contactIds: fields.contactIds.optional(),
});

export const UpdateRecordSchema = CreateRecordSchema.omit({ type: true })
  .partial()
  .refine((value) => Object.keys(value).length > 0, { message: 'send at least one field to change' });

export const ListRecordsQuerySchema = z.object({
  type: z.enum(RECORD_TYPES, { error: `must be one of ${RECORD_TYPES.join(', ')}` }).optional(),
  sort: z.enum(RECORD_SORTS, { error: `must be one of ${RECORD_SORTS.join(', ')}` }).default('name'),
  dir: z.enum(SORT_DIRECTIONS, { error: 'must be asc or desc' }).default('asc'),
  owner: IdSchema.optional(),
  q: z.string().trim().max(200, 'must be at most 200 characters').optional(),
  country: CountrySchema.optional(),
  stage: fields.stage.optional(),
  cursor: z.string().regex(/^\d{1,9}$/, 'must be a cursor from a previous page').optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
});

export const RecordSharesSchema = z.strictObject({
  userIds: z.array(IdSchema, { error: 'must be a list of ids' }).max(1000, 'must have at most 1000 people'),
  groupIds: z.array(IdSchema, { error: 'must be a list of ids' }).max(1000, 'must have at most 1000 groups'),
});

export const ShareFlagSchema = z.strictObject({
  shared: z.boolean({ error: 'must be true or false' }),
  hlc: z.string({ error: 'must be a stamp' }).max(64, 'must be a stamp like 000001732000000:0000:device-1').optional(),
});
