import { tableForRoot } from './vn-claim/tables';

/**
 * What a file looks like, from its first bytes: so a claim converter handed an HL7 message (or
 * a folder's stray PDF) says so instead of producing nothing. Pure; reads at most the head.
 * Says nothing of the content beyond its kind (a file's bytes may be patient data).
 */
export type SourceKind = 'vn-claim' | 'hl7v2' | 'dicom' | 'dicom-json' | 'fhir-json' | 'fhir-xml' | 'xml' | 'json' | 'empty' | 'unknown';

export interface Sniffed {
  kind: SourceKind;
  /** For people: "an HL7 v2 ER7 message (ADT^A01)". */
  description: string;
  /** Bundle.type of a FHIR JSON Bundle, when its head says. */
  bundleType?: string;
}

const HEAD = 8192;

export function sniff(bytes: Uint8Array): Sniffed {
  if (bytes.length === 0) return { kind: 'empty', description: 'an empty file' };
  if (bytes.length >= 132 && Buffer.from(bytes.subarray(128, 132)).toString('latin1') === 'DICM') return { kind: 'dicom', description: 'a DICOM Part 10 file' };
  const text = Buffer.from(bytes.subarray(0, HEAD)).toString('utf8').replace(/^\uFEFF/, '').replace(/^[\s\x0b]+/, '');
  const er7 = /^(MSH|FHS|BHS)(.)/.exec(text);
  if (er7) {
    const type = text.split(/\r\n|\r|\n/)[0]!.split(er7[2]!)[8];
    return { kind: 'hl7v2', description: `an HL7 v2 ER7 message${type ? ` (${type.replace(/[^A-Za-z0-9^_]/g, '').slice(0, 20)})` : ''}` };
  }
  if (text.startsWith('<')) {
    const root = /<(?!\?|!)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>?/.exec(text.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, ''));
    const name = root?.[2] ?? '';
    if (name === 'GIAMDINHHS') return { kind: 'vn-claim', description: 'a claim XML file (GIAMDINHHS envelope)' };
    const table = tableForRoot(name);
    if (table) return { kind: 'vn-claim', description: `a claim XML table (${table}, <${name}>)` };
    if (/xmlns\s*=\s*["']http:\/\/hl7\.org\/fhir["']/.test(root?.[3] ?? '')) return { kind: 'fhir-xml', description: `a FHIR XML ${name}` };
    return { kind: 'xml', description: name ? `an XML document with root <${name}>` : 'an XML document' };
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    const rt = /"resourceType"\s*:\s*"([A-Za-z]+)"/.exec(text)?.[1];
    if (rt) {
      const bundleType = rt === 'Bundle' ? /"type"\s*:\s*"([a-z-]+)"/.exec(text)?.[1] : undefined;
      return { kind: 'fhir-json', description: `a FHIR JSON ${rt}${bundleType ? ` (${bundleType})` : ''}`, ...(bundleType ? { bundleType } : {}) };
    }
    // DICOM JSON (QIDO-RS): objects keyed by 8-hex-digit tags with a "vr".
    if (/^\[?\s*\{\s*"[0-9A-Fa-f]{8}"\s*:\s*\{\s*"vr"/.test(text)) return { kind: 'dicom-json', description: 'DICOM JSON (QIDO-RS results)' };
    return { kind: 'json', description: 'a JSON document that is not FHIR (no resourceType)' };
  }
  if (bytes[0] === 0x25 && bytes[1] === 0x50 && bytes[2] === 0x44 && bytes[3] === 0x46) return { kind: 'unknown', description: 'a PDF document' };
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return { kind: 'unknown', description: 'a ZIP archive (or an Office document)' };
  return { kind: 'unknown', description: 'none of the formats known here (not DICOM Part 10, HL7 v2 ER7, claim XML or FHIR)' };
}
