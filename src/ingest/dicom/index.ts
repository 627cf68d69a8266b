import type { Bundle } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
import { isStorable, normalizeText, unstorableIssue } from '../../fhir/text';
import type { DicomAttrs } from './attrs';
import { mapDicom, type DicomSourceConfig } from './map';
import { instanceRecords, readDicomJson, readPart10 } from './parse';

/**
 * The one entry point intake calls for DICOM: `application/dicom` (a Part 10 file, DICOMDIR
 * included) or `application/dicom+json` (a data set or a QIDO-RS/WADO-RS metadata array).
 * Pure and never throws. `sourceKey` identifies the input for dedupe: the SOP Instance UID
 * of a single instance, else the Study Instance UIDs.
 */
export interface DicomConversion {
  sourceKey: string;
  /** The facility the data belongs to: its institution's, when DICOM_INSTITUTIONS maps it, else the configured one. */
  facility: string;
  bundle?: Bundle;
  issues: Issue[];
}

/** Reads through `attrs`, noting each tag whose value holds a character no store can keep (NUL padding is already stripped). */
function storableOnly(attrs: DicomAttrs, found: Set<string>): DicomAttrs {
  return {
    text(tag) {
      const v = attrs.text(tag);
      if (!isStorable(v)) found.add(tag);
      return v;
    },
    items: (tag) => attrs.items(tag).map((i) => storableOnly(i, found)),
  };
}

/** Names compared as people write them: case, accents, spacing and punctuation aside. */
const institutionKey = (name: string) => normalizeText(name).replace(/[^a-z0-9]+/g, ' ').trim();

/** The facility a set of images was made at, by the first Institution Name the table knows. */
export function institutionFacility(institutions: Record<string, string> | undefined, names: string[]): string | undefined {
  if (!institutions) return undefined;
  const table = new Map(Object.entries(institutions).map(([k, v]) => [institutionKey(k), v]));
  for (const n of names) {
    const f = n ? table.get(institutionKey(n)) : undefined;
    if (f) return f;
  }
  return undefined;
}

export function convertDicom(bytes: Buffer, contentType: string, cfg: DicomSourceConfig): DicomConversion {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  let datasets: DicomAttrs[];
  const issues: Issue[] = [];
  if (type === 'application/dicom' || type === 'application/octet-stream') {
    const read = readPart10(bytes);
    issues.push(...read.issues);
    datasets = read.attrs ? [read.attrs] : [];
  } else if (type === 'application/dicom+json' || type === 'application/json') {
    const read = readDicomJson(bytes);
    issues.push(...read.issues);
    datasets = read.datasets;
  } else {
    return { sourceKey: '', facility: cfg.facility, issues: [issue('error', 'not-supported', `Content type '${contentType}' is not DICOM: send application/dicom or application/dicom+json`)] };
  }
  if (!datasets.length) return { sourceKey: '', facility: cfg.facility, issues };
  const unstorable = new Set<string>();
  const records = datasets.map((d) => storableOnly(d, unstorable)).flatMap(instanceRecords);
  if (!records.length) {
    return { sourceKey: '', facility: cfg.facility, issues: [...issues, issue('error', 'required', 'The DICOMDIR lists no images', '(0004,1220)')] };
  }
  const facility = institutionFacility(cfg.institutions, records.map((r) => r.institutionName)) ?? cfg.facility;
  const single = records.length === 1 && records[0]!.sopInstanceUid;
  const sourceKey = single ? records[0]!.sopInstanceUid : [...new Set(records.map((r) => r.studyInstanceUid).filter(Boolean))].join(',');
  // Readable, but holding what no store can keep: quarantined (not rejected), with the tags named.
  if (unstorable.size) return { sourceKey: sourceKey || 'unstorable', facility, issues: [...issues, ...[...unstorable].map((tag) => unstorableIssue(`(${tag.slice(0, 4)},${tag.slice(4)})`))] };
  const mapped = mapDicom(records, { ...cfg, facility });
  return { sourceKey, facility, ...(mapped.bundle ? { bundle: mapped.bundle } : {}), issues: [...issues, ...mapped.issues] };
}

export { mergeImagingStudy, type DicomSourceConfig } from './map';
