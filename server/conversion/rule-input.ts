/**
 * @module server/conversion/rule-input
 * Validation of conversion rules as the API receives them. Every error names
 * its field by dotted path (`criteria.senderDomains.1`, `ownerStrategy.userId`).
 */
import { z } from 'zod';
import { isCountryCode } from '../../sync/country-tld';
import { normalizeDomain } from '../../sync/sharing';
import { CONVERSION_RECORD_TYPES, hasCriteria } from '../../sync/conversion-rules';
import { EmailSchema, IdSchema, RoleSchema } from '../schemas';

const MAX_VALUES = 50;
const MAX_ROUTES = 250;

const list = <T extends z.ZodType>(item: T) =>
  z.array(item, { error: 'must be a list' }).max(MAX_VALUES, `must have at most ${MAX_VALUES} entries`).optional();

const DomainSchema = z
  .string({ error: 'must be a domain' })
  .transform((value, ctx) => {
    const domain = normalizeDomain(value);
    if (!domain) {
      ctx.addIssue({ code: 'custom', message: 'must be a domain like acme.com' });
      return z.NEVER;
    }
    return domain;
  });

const PhraseSchema = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

export const CriteriaSchema = z
  .strictObject(
    {
      senderDomains: list(DomainSchema),
      subjectContains: list(PhraseSchema),
      bodyContains: list(PhraseSchema),
      recipientAddresses: list(EmailSchema),
      accountIds: list(IdSchema),
    },
    { error: 'must be an object of criteria' },
  )
  .refine(hasCriteria, { message: 'add at least one criterion: a rule without criteria would convert every sender' });

const PoolSchema = z.discriminatedUnion(
  'kind',
  [z.strictObject({ kind: z.literal('role'), role: RoleSchema }), z.strictObject({ kind: z.literal('group'), groupId: IdSchema })],
  { error: 'must be a role or a group' },
);

const CountryTargetSchema = z.discriminatedUnion(
  'kind',
  [z.strictObject({ kind: z.literal('person'), userId: IdSchema }), z.strictObject({ kind: z.literal('role'), role: RoleSchema })],
  { error: 'must be a person or a role' },
);

const CountrySchema = z
  .string({ error: 'must be a country code' })
  .trim()
  .toUpperCase()
  .refine(isCountryCode, { message: 'must be a two-letter country code like DE' });

export const OwnerStrategySchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('person'), userId: IdSchema }),
    z.strictObject({ kind: z.literal('round_robin'), pool: PoolSchema }),
    z.strictObject({
      kind: z.literal('country'),
      routes: z
        .array(z.strictObject({ country: CountrySchema, target: CountryTargetSchema }), { error: 'must be a list' })
        .max(MAX_ROUTES, `must have at most ${MAX_ROUTES} entries`)
        .superRefine((routes, ctx) => {
          const seen = new Set<string>();
          routes.forEach((r, i) => {
            if (seen.has(r.country)) {
              ctx.addIssue({ code: 'custom', path: [i, 'country'], message: `${r.country} is listed twice` });
            }
            seen.add(r.country);
          });
        }),
      fallbackUserId: IdSchema,
    }),
  ],
  { error: 'must be an owner strategy: person, round_robin or country' },
);

const NameSchema = z.string({ error: 'is required' }).trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters');
const RecordTypeSchema = z.enum(CONVERSION_RECORD_TYPES, { error: 'must be lead or contact' });

export const RuleInputSchema = z.strictObject({
  name: NameSchema,
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
  recordType: RecordTypeSchema,
  criteria: CriteriaSchema,
  ownerStrategy: OwnerStrategySchema,
});

export const RulePatchSchema = z
  .strictObject({
    name: NameSchema.optional(),
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    recordType: RecordTypeSchema.optional(),
    criteria: CriteriaSchema.optional(),
    ownerStrategy: OwnerStrategySchema.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'send at least one of name, enabled, recordType, criteria, ownerStrategy' });

export const RuleOrderSchema = z.strictObject({
  ids: z.array(IdSchema, { error: 'must be a list of rule ids' }).max(1000, 'must have at most 1000 entries'),
});

export type RuleInput = z.output<typeof RuleInputSchema>;
export type RulePatch = z.output<typeof RulePatchSchema>;
