import type { Bundle, FhirResource } from 'fhir/r4';
import { hasErrors } from '../../fhir/outcome';
import { isStorable, unstorableIssue } from '../../fhir/text';
import type { Issue } from '../../fhir/outcome';
import { mapClaim } from './map';
import { parseClaimFile } from './parse';
import type { ClaimRecords, ClaimVersion, ParseOptions } from './parse';
import { checkClaim } from './rules';

/**
 * The one entry point the intake calls for Vietnamese claim XML (QĐ 130/4750/3176, legacy 4210):
 *
 *   for await (const r of convertClaim(bytesOrStream, { facility })) { … }
 *
 * One result per HOSO (episode of care), in file order, as soon as it is read:
 * - `bundle` present: a FHIR R4 transaction Bundle (PUT by deterministic id) — accept it;
 *   `issues` may still hold warnings and information.
 * - `bundle` absent: the HOSO is rejected; `issues` says why, each with an `expression` such as
 *   `HOSO[2].FILEHOSO[1].NOIDUNGFILE` or `XML3[4].NGAY_YL`. Other HOSO are unaffected.
 * - `index` -1: about the file as a whole. With an error (empty, not XML, DTD, truncated, too
 *   large, envelope of another facility) quarantine the whole message; a warning alone (e.g.
 *   SOLUONGHOSO not matching the HOSO found) is only recorded.
 * Pure apart from reading the input: nothing is stored or logged.
 */
export interface ClaimConversion {
  index: number;
  /** MA_LK of the episode ('' when it could not be read). */
  sourceKey: string;
  /** MA_CSKCB of the facility the data belongs to. */
  facility: string;
  version?: ClaimVersion;
  bundle?: Bundle;
  issues: Issue[];
}

export interface ConvertOptions extends ParseOptions {
  /** Optional resource validator (e.g. src/validation validateResource); its errors reject the HOSO. */
  validate?: (resource: FhirResource) => Issue[];
}

/** `XML1[0].HO_TEN`: each element holding a character no store can keep. */
function unstorableFields(tables: ClaimRecords['tables']): Issue[] {
  const found: Issue[] = [];
  for (const [table, rows] of Object.entries(tables)) {
    rows?.forEach((row, i) => {
      for (const [field, value] of Object.entries(row)) if (!isStorable(value)) found.push(unstorableIssue(`${table}[${i}].${field}`));
    });
  }
  return found;
}

export async function* convertClaim(input: Uint8Array | AsyncIterable<Uint8Array>, options: ConvertOptions = {}): AsyncGenerator<ClaimConversion> {
  const { validate, ...parseOptions } = options;
  for await (const parsed of parseClaimFile(input, parseOptions)) {
    const base = { index: parsed.index, sourceKey: parsed.sourceKey, facility: parsed.facility, ...(parsed.records ? { version: parsed.records.version } : {}) };
    if (!parsed.records || hasErrors(parsed.issues)) {
      yield { ...base, issues: parsed.issues };
      continue;
    }
    const unstorable = unstorableFields(parsed.records.tables);
    if (unstorable.length) {
      yield { ...base, issues: [...parsed.issues, ...unstorable] };
      continue;
    }
    const checked = [...parsed.issues, ...checkClaim(parsed.records)];
    if (hasErrors(checked)) {
      yield { ...base, issues: checked };
      continue;
    }
    const mapped = mapClaim(parsed.records);
    const issues = [...checked, ...mapped.issues];
    if (mapped.bundle && validate) {
      mapped.bundle.entry?.forEach((e, i) => {
        for (const v of validate(e.resource as FhirResource)) issues.push({ ...v, expression: `Bundle.entry[${i}].resource${v.expression ? ` (${v.expression})` : ''}` });
      });
    }
    yield hasErrors(issues) || !mapped.bundle ? { ...base, issues } : { ...base, bundle: mapped.bundle, issues };
  }
}

export { mapClaim } from './map';
export { parseClaimFile } from './parse';
export { checkClaim } from './rules';
export type { ClaimRecords, HosoResult, Row } from './parse';
