/**
 * @module server/routes/conversions
 * Converting a message's sender (or another party) to a lead or contact,
 * mounted under `/api/messages`.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { ConvertSenderDto } from '../../sync/conversion-api';
import { CONVERSION_RECORD_TYPES } from '../../sync/conversion-rules';
import { convertSender } from '../commands/convert-sender';
import type { AppEnv } from '../context';
import { requireAuth } from '../middleware/session';
import { presentConvertedRecord } from '../presenters/conversion';
import { EmailSchema, IdParamSchema } from '../schemas';
import { check, readJson } from '../validate';

const ConvertSchema = z.strictObject({
  type: z.enum(CONVERSION_RECORD_TYPES, { error: 'must be lead or contact' }),
  address: EmailSchema.optional(),
});

export const convertRoutes = new Hono<AppEnv>().post('/:id/convert', async (c) => {
  const auth = requireAuth(c.var.auth);
  const { id } = check(IdParamSchema, c.req.param());
  const input = await readJson(c, ConvertSchema);
  const result = await convertSender(c.var.deps, auth, id, input);
  c.var.log.info({ messageId: id, recordId: result.record.id, created: result.created }, 'sender converted');
  const body: ConvertSenderDto = { record: presentConvertedRecord(result.record), created: result.created };
  return c.json(body, result.created ? 201 : 200);
});
