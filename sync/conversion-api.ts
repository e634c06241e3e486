/**
 * @module sync/conversion-api
 * The JSON contract of converting a sender and of the conversion rules admin.
 */
import type { ConversionCriteria, ConversionRecordType, OwnerStrategy } from './conversion-rules';

/** `POST /api/messages/:id/convert`. `address` defaults to the sender (inbound) or the first recipient (outbound). */
export interface ConvertSenderInput {
  type: ConversionRecordType;
  address?: string;
}

export interface ConvertedRecordDto {
  id: string;
  type: ConversionRecordType;
  name: string;
  company: string;
  country: string | null;
  email: string;
  owner: { id: string; name: string };
  source: 'manual' | 'import' | 'conversion' | 'rule';
  createdAt: string;
}

/** `created` is false when the address already belonged to a lead or contact: that record is returned. */
export interface ConvertSenderDto {
  record: ConvertedRecordDto;
  created: boolean;
}

export interface ConversionRuleDto {
  id: string;
  name: string;
  position: number;
  enabled: boolean;
  recordType: ConversionRecordType;
  criteria: ConversionCriteria;
  ownerStrategy: OwnerStrategy;
  firedCount: number;
  lastFiredAt: string | null;
  /** Rules apply only to mail received after this moment. */
  createdAt: string;
  updatedAt: string;
}

export interface ConversionRuleListDto {
  rules: ConversionRuleDto[];
}

export interface ConversionRuleInput {
  name: string;
  enabled?: boolean;
  recordType: ConversionRecordType;
  criteria: ConversionCriteria;
  ownerStrategy: OwnerStrategy;
}

export type ConversionRulePatch = Partial<ConversionRuleInput>;

/** `PUT /api/admin/conversion-rules/order`: every rule id of the organization, first rule first. */
export interface ConversionRuleOrderInput {
  ids: string[];
}
