import type { Bundle } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
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
  const records = datasets.flatMap(instanceRecords);
  if (!records.length) {
    return { sourceKey: '', issues: [...issues, issue('error', 'required', 'The DICOMDIR lists no images', '(0004,1220)')] };
  }
  const mapped = mapDicom(records, cfg);
  const single = records.length === 1 && records[0]!.sopInstanceUid;
  const sourceKey = single ? records[0]!.sopInstanceUid : [...new Set(records.map((r) => r.studyInstanceUid).filter(Boolean))].join(',');
  return { sourceKey, ...(mapped.bundle ? { bundle: mapped.bundle } : {}), issues: [...issues, ...mapped.issues] };
}

export { mergeImagingStudy, type DicomSourceConfig } from './map';
