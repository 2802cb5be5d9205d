// The region table (layout.ts RG_*): one record in linear memory that tells the host where
// each shared buffer lives, so that one call (regionTable) replaces an address getter per
// buffer. The staging areas of meter and class records are static, usable before engineInit.
import { counters } from './accounting';
import { entries, flowTableBytes } from './flowtable';
import {
  CLASS_RECORD_BYTES, CLASS_STAGING_RECORDS, METER_RECORD_BYTES, METER_STAGING_RECORDS, REGION_BYTES, RG_CLASS_STAGING, RG_COUNTERS, RG_DEMANDS,
  RG_DESCRIPTORS, RG_ENTRIES, RG_FLOW_TABLE_BYTES, RG_INPUT, RG_INPUT_SIZE, RG_KEY, RG_METER_STAGING, RG_PRICES, RG_RULE_STAGING, RG_VERDICTS,
} from './layout';
import { configured, descriptors, input, inputSize, keyScratch, verdicts } from './pipeline';
import { demandsAddress, pricesAddress } from './pricing';
import { ruleStaging } from './rules';

const regions: usize = memory.data(REGION_BYTES, 16);
export const meterStaging: usize = memory.data(METER_STAGING_RECORDS * METER_RECORD_BYTES, 16);
export const classStaging: usize = memory.data(CLASS_STAGING_RECORDS * CLASS_RECORD_BYTES, 16);

/** Writes the current addresses into the region table; returns its address. */
export function regionsUpdate(): usize {
  store<u32>(regions, input as u32, RG_INPUT);
  store<u32>(regions, inputSize, RG_INPUT_SIZE);
  store<u32>(regions, descriptors as u32, RG_DESCRIPTORS);
  store<u32>(regions, verdicts as u32, RG_VERDICTS);
  store<u32>(regions, counters as u32, RG_COUNTERS);
  store<u32>(regions, keyScratch as u32, RG_KEY);
  store<u32>(regions, entries as u32, RG_ENTRIES);
  store<u32>(regions, ruleStaging as u32, RG_RULE_STAGING);
  store<u32>(regions, meterStaging as u32, RG_METER_STAGING);
  store<u32>(regions, classStaging as u32, RG_CLASS_STAGING);
  store<u32>(regions, pricesAddress() as u32, RG_PRICES);
  store<u32>(regions, demandsAddress() as u32, RG_DEMANDS);
  store<u32>(regions, configured ? flowTableBytes() : 0, RG_FLOW_TABLE_BYTES);
  return regions;
}
