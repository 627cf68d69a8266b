import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StructureDefinition } from 'fhir/r4';
import { SD_BASE } from '../fhir/definitions';

/**
 * Implementation guides beyond core R4, read from their HL7 npm packages:
 * - the IPS profiles and value sets (`hl7.fhir.uv.ips` 2.0.0), all of them once, at start;
 * - HL7's extension pack (`hl7.fhir.uv.extensions.r4`), one definition at a time when a profile
 *   or an instance names it (it has hundreds; core R4's own extensions are looked up first).
 */
function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

const CONFORMANCE = /^(StructureDefinition|ValueSet|CodeSystem)-.*\.json$/;

/** Every StructureDefinition, ValueSet and CodeSystem of the IPS package. */
export function ipsConformanceResources(): unknown[] {
  const dir = packageDir('hl7.fhir.uv.ips');
  if (!dir) return [];
  const out: unknown[] = [];
  for (const f of readdirSync(dir).filter((n) => CONFORMANCE.test(n)).sort()) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    } catch {
      // a file that does not parse is skipped; the rest still loads
    }
  }
  return out;
}

const extensions = new Map<string, StructureDefinition | null>();

/** An extension definition of HL7's extension pack, by URL (the pack names its files by id). */
export function extensionPackDefinition(url: string): StructureDefinition | undefined {
  if (!url.startsWith(SD_BASE)) return undefined;
  const id = url.slice(SD_BASE.length);
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return undefined;
  let sd = extensions.get(id);
  if (sd === undefined) {
    sd = null;
    const dir = packageDir('hl7.fhir.uv.extensions.r4');
    const file = dir && join(dir, `StructureDefinition-${id}.json`);
    if (file && existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as StructureDefinition;
        if (parsed.resourceType === 'StructureDefinition' && parsed.url === url) sd = parsed;
      } catch {
        sd = null;
      }
    }
    extensions.set(id, sd);
  }
  return sd ?? undefined;
}
