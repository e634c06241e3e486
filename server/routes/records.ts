/**
 * @module server/routes/records
 * CRM records under `/api/records`: list, detail, create, edit, delete,
 * shares, the caller's "share emails" flag, and CSV import of leads and
 * contacts. A record the caller cannot access is a 404 everywhere.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { ERROR_CODES } from '../../sync/api';
import { IMPORT_MAX_BYTES, IMPORT_TYPES, type RecordListDto } from '../../sync/records-api';
import { importRecords } from '../commands/import-records';
import { getEditedRecordDetail, getRecordDetail, listAccessibleRecords } from '../commands/record-detail';
import { setRecordShares, setShareFlag } from '../commands/record-shares';
import { createRecord, deleteRecord, updateRecord } from '../commands/records';
import type { AppEnv } from '../context';
import { HttpError } from '../errors';
import { requireAuth } from '../middleware/session';
import { presentRecord, presentRecordSummary } from '../presenters/record';
import {
  CreateRecordSchema,
  ListRecordsQuerySchema,
  RecordSharesSchema,
  ShareFlagSchema,
  UpdateRecordSchema,
} from '../records/record-input';
import { IdParamSchema } from '../schemas';
import { check, readJson } from '../validate';

const ImportQuerySchema = z.object({
  type: z.enum(IMPORT_TYPES, { error: 'must be lead or contact' }),
});

const CSV_TYPES = /^(?:text\/(?:csv|plain|comma-separated-values)|application\/(?:csv|vnd\.ms-excel))\b/i;

/** Spreadsheets on Windows still save CSV as Windows-1252; valid UTF-8 is read as such, anything else as 1252. */
function decodeCsv(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

const importLimit = bodyLimit({
  maxSize: IMPORT_MAX_BYTES,
  onError: () => {
    throw new HttpError(413, ERROR_CODES.payloadTooLarge, `The file is larger than ${IMPORT_MAX_BYTES / 1024 / 1024} MB`);
  },
});

export const recordRoutes = new Hono<AppEnv>()
  .get('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const query = check(ListRecordsQuerySchema, c.req.query());
    const page = await listAccessibleRecords(c.var.deps.db, auth, {
      type: query.type,
      ownerId: query.owner,
      text: query.q || undefined,
      country: query.country ?? undefined,
      stage: query.stage,
      sort: query.sort,
      dir: query.dir,
      offset: query.cursor ? Number(query.cursor) : 0,
      limit: query.limit,
    });
    const body: RecordListDto = {
      records: page.rows.map(presentRecordSummary),
      total: page.total,
      nextCursor: page.nextOffset === null ? null : String(page.nextOffset),
    };
    return c.json(body);
  })
  .post('/', async (c) => {
    const auth = requireAuth(c.var.auth);
    const input = await readJson(c, CreateRecordSchema);
    const id = await createRecord(c.var.deps, auth, input);
    c.var.log.info({ recordId: id, type: input.type }, 'record created');
    return c.json(presentRecord(await getEditedRecordDetail(c.var.deps.db, auth, id)), 201);
  })
  .post('/import', importLimit, async (c) => {
    const auth = requireAuth(c.var.auth);
    const { type } = check(ImportQuerySchema, c.req.query());
    if (!CSV_TYPES.test(c.req.header('content-type') ?? '')) {
      throw new HttpError(415 as 400, ERROR_CODES.badRequest, 'Send the file as text/csv');
    }
    const report = await importRecords(c.var.deps, auth, type, decodeCsv(await c.req.arrayBuffer()));
    c.var.log.info({ type, rows: report.rows, imported: report.imported, failedRows: report.failedRows }, 'records imported');
    return c.json(report);
  })
  .get('/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    return c.json(presentRecord(await getRecordDetail(c.var.deps.db, auth, id)));
  })
  .patch('/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const patch = await readJson(c, UpdateRecordSchema);
    await updateRecord(c.var.deps, auth, id, patch);
    return c.json(presentRecord(await getEditedRecordDetail(c.var.deps.db, auth, id)));
  })
  .delete('/:id', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    await deleteRecord(c.var.deps, auth, id);
    c.var.log.info({ recordId: id }, 'record deleted');
    return c.body(null, 204);
  })
  .put('/:id/shares', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const shares = await readJson(c, RecordSharesSchema);
    return c.json(await setRecordShares(c.var.deps, auth, id, shares));
  })
  .put('/:id/share-flag', async (c) => {
    const auth = requireAuth(c.var.auth);
    const { id } = check(IdParamSchema, c.req.param());
    const input = await readJson(c, ShareFlagSchema);
    return c.json(await setShareFlag(c.var.deps, auth, id, input));
  });
