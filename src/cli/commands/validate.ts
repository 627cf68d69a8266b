import { existsSync, readFileSync } from 'node:fs';
import { FhirError, hasErrors, issue, toOperationOutcome, type Issue } from '../../fhir/outcome';
import { parseFhirXml } from '../../fhir/xml';
import { validateResource } from '../../validation';
import type { CommandSpec, ParsedArgs } from '../args';

export const spec: CommandSpec = {
  summary: 'validate a FHIR resource (JSON or XML) and print an OperationOutcome; exit 0 clean, 1 errors',
  positional: '<file.json|file.xml>',
  options: { profile: { type: 'string', value: 'URL', multiple: true, help: 'also check against this profile (repeatable)' } },
};

/** Offset of the first byte that breaks UTF-8 (overlongs, surrogates and truncation included), or -1. */
function firstBadUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length + (n ? 0 : 1)) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    const c1 = b[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    i += n + 1;
  }
  return -1;
}

/** File bytes to text; invalid UTF-8 is refused with the byte offset, not silently replaced. */
export function decodeUtf8(bytes: Uint8Array): { text?: string; issues: Issue[] } {
  const bad = firstBadUtf8(bytes);
  if (bad >= 0) return { issues: [issue('fatal', 'structure', `The content is not valid UTF-8 (first bad byte at offset ${bad})`)] };
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), issues: [] };
}

/** JSON or FHIR XML text to a resource, or the issues that say why it cannot be read. */
export function readResource(text: string): { resource?: unknown; issues: Issue[] } {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('<')) {
    try {
      return { resource: parseFhirXml(body), issues: [] };
    } catch (e) {
      if (e instanceof FhirError) return { issues: e.issues.map((i) => ({ ...i, severity: 'fatal' as const })) };
      throw e;
    }
  }
  try {
    return { resource: JSON.parse(body) as unknown, issues: [] };
  } catch (e) {
    return { issues: [issue('fatal', 'structure', `Error parsing JSON: ${(e as Error).message}`)] };
  }
}

export async function run({ positional: file, values }: ParsedArgs): Promise<number> {
  const profiles = (values.profile as string[] | undefined) ?? [];
  if (!existsSync(file)) {
    process.stderr.write(`no such file: ${file}\n`);
    return 2;
  }
  const decoded = decodeUtf8(readFileSync(file));
  const { resource, issues } = decoded.text === undefined ? { resource: undefined, issues: decoded.issues } : readResource(decoded.text);
  const all = resource === undefined ? issues : validateResource(resource, { profiles });
  const outcome = toOperationOutcome(all.length ? all : [issue('information', 'informational', 'All OK')]);
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  return hasErrors(all) ? 1 : 0;
}
