import { inflateRawSync } from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import { issue, type Issue } from '../../fhir/outcome';
import { charsetFor, jsonAttrs, part10Attrs, type DicomAttrs } from './attrs';

/**
 * DICOM bytes → the study/series/instance facts ImagingStudy needs. Parsing stops before
 * Pixel Data (7FE0,0010): images are never read, copied or kept. Pure; never throws.
 */

/** One instance as ImagingStudy sees it; QIDO study/series results fill only their level. */
export interface DicomInstanceRecord {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  modality: string;
  modalitiesInStudy: string[];
  studyDate: string;
  studyTime: string;
  seriesDate: string;
  seriesTime: string;
  /** Timezone Offset From UTC (0008,0201), e.g. `+0700`. */
  timezoneOffset: string;
  accessionNumber: string;
  /** Institution Name (0008,0080): which facility made the images. */
  institutionName: string;
  referringPhysician: string;
  patientId: string;
  issuerOfPatientId: string;
  studyDescription: string;
  seriesDescription: string;
  seriesNumber: string;
  instanceNumber: string;
  bodyPartExamined: string;
  procedureCodes: { code: string; scheme: string; meaning: string }[];
  /** QIDO counts (0020,1206 / 1208 / 1209) when the source states them. */
  studySeriesCount: string;
  studyInstanceCount: string;
  seriesInstanceCount: string;
}

const PIXEL_DATA = 'x7fe00010';
const MAX_INFLATED = 64 * 1024 * 1024;
const TS_IMPLICIT_LE = '1.2.840.10008.1.2';
const TS_EXPLICIT_LE = '1.2.840.10008.1.2.1';
const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2';

/** A raw data set without file meta: tell the encoding from the first element's bytes. */
function guessTransferSyntax(b: Uint8Array): string {
  const vr = String.fromCharCode(b[4] ?? 0, b[5] ?? 0);
  const explicit = /^[A-Z]{2}$/.test(vr);
  if (explicit && b[0] === 0 && b[1] !== 0) return TS_EXPLICIT_BE;
  return explicit ? TS_EXPLICIT_LE : TS_IMPLICIT_LE;
}

function inflater(arr: Uint8Array, position: number): Uint8Array {
  // A deflate bomb must not take the process down: cap what one file may inflate to.
  const inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: MAX_INFLATED });
  const out = new Uint8Array(position + inflated.length);
  out.set(arr.subarray(0, position), 0);
  out.set(inflated, position);
  return out;
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }` objects. */
function message(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  const ex = (e as { exception?: unknown })?.exception;
  return typeof ex === 'string' ? ex : 'unreadable data';
}

export function readPart10(bytes: Buffer): { attrs?: DicomAttrs; issues: Issue[] } {
  const issues: Issue[] = [];
  const hasPreamble = bytes.length > 132 && bytes.toString('latin1', 128, 132) === 'DICM';
  const attempt = (arr: Uint8Array, ts?: string): dicomParser.DataSet => dicomParser.parseDicom(arr, { untilTag: PIXEL_DATA, inflater, ...(ts ? { TransferSyntaxUID: ts } : {}) } as dicomParser.ParseDicomOptions);
  let ds: dicomParser.DataSet | undefined;
  const notPart10 = () => ({ issues: [issue('error', 'structure', 'not a DICOM Part 10 file (no DICM preamble)')] });
  try {
    ds = hasPreamble ? attempt(bytes) : attempt(bytes, guessTransferSyntax(bytes));
  } catch (e) {
    const partial = (e as { dataSet?: dicomParser.DataSet }).dataSet;
    if (hasPreamble && /0002,0010/.test(message(e))) {
      // File meta without a transfer syntax: read the data set after the meta group on its own.
      try {
        const meta = dicomParser.readPart10Header(bytes);
        const end = Math.max(...Object.values(meta.elements).map((el) => el.dataOffset + el.length));
        const rest = bytes.subarray(end);
        ds = attempt(rest, guessTransferSyntax(rest));
        issues.push(issue('warning', 'incomplete', 'File meta has no Transfer Syntax UID (0002,0010); the encoding was inferred', '(0002,0010)'));
      } catch (e2) {
        issues.push(issue('error', 'structure', `Not a readable DICOM file: ${message(e2)}`));
        return { issues };
      }
    } else if (!hasPreamble) {
      return notPart10();
    } else if (partial && Object.keys(partial.elements).length > 0) {
      ds = partial;
      issues.push(issue('warning', 'incomplete', `DICOM file is truncated or damaged; read what precedes the damage (${message(e)})`));
    } else {
      issues.push(issue('error', 'structure', `Not a readable DICOM Part 10 file: ${message(e)}`));
      return { issues };
    }
  }
  // Without the preamble any bytes "parse" as some data set: only one naming an instance, a study or a directory is DICOM.
  if (!hasPreamble && !['x00080018', 'x0020000d', 'x00041220'].some((t) => ds.elements[t])) return notPart10();
  const specific = ds.string('x00080005') ?? '';
  let charset = charsetFor(specific);
  if (!charset) {
    issues.push(issue('warning', 'not-supported', `Specific Character Set '${specific}' is not supported; text read as Latin-1`, '(0008,0005)'));
    charset = 'latin1';
  }
  return { attrs: part10Attrs(ds, charset), issues };
}

/** DICOM JSON: one data set, or an array of them (QIDO-RS results, WADO-RS metadata). */
export function readDicomJson(bytes: Buffer): { datasets: DicomAttrs[]; issues: Issue[] } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return { datasets: [], issues: [issue('error', 'structure', `Not JSON: ${message(e)}`)] };
  }
  const list = Array.isArray(json) ? json : [json];
  const datasets = list.filter((d): d is Record<string, { vr?: string; Value?: unknown[] }> => !!d && typeof d === 'object' && !Array.isArray(d)).map(jsonAttrs);
  if (!datasets.length) return { datasets, issues: [issue('error', 'structure', 'DICOM JSON holds no data set')] };
  return { datasets, issues: [] };
}

function record(a: DicomAttrs, inherited: Partial<DicomInstanceRecord> = {}): DicomInstanceRecord {
  const t = (tag: string, key: keyof DicomInstanceRecord) => a.text(tag) || (inherited[key] as string | undefined) || '';
  return {
    studyInstanceUid: t('0020000D', 'studyInstanceUid'),
    seriesInstanceUid: t('0020000E', 'seriesInstanceUid'),
    sopInstanceUid: a.text('00080018') || a.text('00041511'),
    sopClassUid: a.text('00080016') || a.text('00041510'),
    modality: t('00080060', 'modality'),
    modalitiesInStudy: (a.text('00080061') || '').split('\\').filter(Boolean),
    studyDate: t('00080020', 'studyDate'),
    studyTime: t('00080030', 'studyTime'),
    seriesDate: a.text('00080021'),
    seriesTime: a.text('00080031'),
    timezoneOffset: a.text('00080201'),
    accessionNumber: t('00080050', 'accessionNumber'),
    institutionName: t('00080080', 'institutionName'),
    referringPhysician: t('00080090', 'referringPhysician'),
    patientId: t('00100020', 'patientId'),
    issuerOfPatientId: t('00100021', 'issuerOfPatientId'),
    studyDescription: t('00081030', 'studyDescription'),
    seriesDescription: t('0008103E', 'seriesDescription'),
    seriesNumber: t('00200011', 'seriesNumber'),
    instanceNumber: a.text('00200013'),
    bodyPartExamined: t('00180015', 'bodyPartExamined'),
    procedureCodes: a.items('00081032').map((i) => ({ code: i.text('00080100'), scheme: i.text('00080102'), meaning: i.text('00080104') })).filter((p) => p.code || p.meaning),
    studySeriesCount: a.text('00201206'),
    studyInstanceCount: a.text('00201208'),
    seriesInstanceCount: a.text('00201209'),
  };
}

/**
 * Data set → instance records. A DICOMDIR lists patients, studies, series and images as
 * consecutive directory records; each image record inherits what the records above it say.
 */
export function instanceRecords(a: DicomAttrs): DicomInstanceRecord[] {
  const dir = a.items('00041220');
  if (!dir.length) return [record(a)];
  const out: DicomInstanceRecord[] = [];
  let patient: Partial<DicomInstanceRecord> = {};
  let study: Partial<DicomInstanceRecord> = {};
  let series: Partial<DicomInstanceRecord> = {};
  for (const r of dir) {
    const type = r.text('00041430');
    if (type === 'PATIENT') {
      patient = record(r);
      study = series = {};
    } else if (type === 'STUDY') {
      study = { ...record(r, patient) };
      series = {};
    } else if (type === 'SERIES') {
      series = { ...record(r, study) };
    } else if (r.text('00041511')) {
      out.push(record(r, { ...patient, ...study, ...series, studyInstanceUid: series.studyInstanceUid ?? study.studyInstanceUid }));
    }
  }
  return out;
}
