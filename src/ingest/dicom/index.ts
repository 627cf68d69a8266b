import type { Bundle } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
import { isStorable, unstorableIssue } from '../../fhir/text';
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
    return { sourceKey: '', issues: [issue('error', 'not-supported', `Content type '${contentType}' is not DICOM: send application/dicom or application/dicom+json`)] };
  }
  if (!datasets.length) return { sourceKey: '', issues };
  const unstorable = new Set<string>();
  const records = datasets.map((d) => storableOnly(d, unstorable)).flatMap(instanceRecords);
  if (!records.length) {
    return { sourceKey: '', issues: [...issues, issue('error', 'required', 'The DICOMDIR lists no images', '(0004,1220)')] };
  }
  const single = records.length === 1 && records[0]!.sopInstanceUid;
  const sourceKey = single ? records[0]!.sopInstanceUid : [...new Set(records.map((r) => r.studyInstanceUid).filter(Boolean))].join(',');
  // Readable, but holding what no store can keep: quarantined (not rejected), with the tags named.
  if (unstorable.size) return { sourceKey: sourceKey || 'unstorable', issues: [...issues, ...[...unstorable].map((tag) => unstorableIssue(`(${tag.slice(0, 4)},${tag.slice(4)})`))] };
  const mapped = mapDicom(records, cfg);
  return { sourceKey, ...(mapped.bundle ? { bundle: mapped.bundle } : {}), issues: [...issues, ...mapped.issues] };
}

export { mergeImagingStudy, type DicomSourceConfig } from './map';
