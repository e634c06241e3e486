/**
 * @module server/presenters/conversion
 * Converted records and conversion rules → the JSON of sync/conversion-api.ts.
 */
import type { ConversionRuleRow } from '../../db/queries/conversion-rules';
import type { ConvertedRecordRow } from '../../db/queries/conversions';
import type { ConversionRuleDto, ConvertedRecordDto } from '../../sync/conversion-api';

export function presentConvertedRecord(r: ConvertedRecordRow): ConvertedRecordDto {
  return {
    id: r.id,
    type: r.type,
    name: r.name,
    company: r.company,
    country: r.country,
    email: r.email,
    owner: { id: r.ownerId, name: r.ownerName },
    source: r.source,
    createdAt: r.createdAt.toISOString(),
  };
}

/** A rule as the admin page shows it (the round-robin cursor stays internal). */
export function presentConversionRule(r: ConversionRuleRow): ConversionRuleDto {
  return {
    id: r.id,
    name: r.name,
    position: r.position,
    enabled: r.enabled,
    recordType: r.recordType,
    criteria: r.criteria,
    ownerStrategy: r.ownerStrategy,
    firedCount: r.firedCount,
    lastFiredAt: r.lastFiredAt ? r.lastFiredAt.toISOString() : null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
