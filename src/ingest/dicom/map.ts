import type { Bundle, BundleEntry, Coding, Endpoint, ImagingStudy, ImagingStudySeries, Reference } from 'fhir/r4';
import { issue, type Issue } from '../../fhir/outcome';
import { deterministicId } from '../ids';
import { systemUri } from '../hl7v2/datatypes';
import type { DicomInstanceRecord } from './parse';

// DICOM study metadata (thông tin ca chụp từ PACS) → ImagingStudy + Endpoint.

export interface DicomSourceConfig {
  /** MA_CSKCB the ids are scoped to: the same facility the RIS/HIS feed uses, so ids meet. */
  facility: string;
  /** WADO-RS base URL of this PACS; when set, an Endpoint is written and referenced. */
  wadoRsBase?: string;
  accessionSystem?: string;
  /** Offset for study times without Timezone Offset From UTC; Vietnam is +07:00. */
  timezoneOffset?: string;
  /**
   * Institution Name (0008,0080) → MA_CSKCB (DICOM_INSTITUTIONS). A mapped institution decides
   * the facility of the data (and the facility rules apply to it); others keep `facility`.
   */
  institutions?: Record<string, string>;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

/** DA + TM (+ offset) → FHIR dateTime; undefined when the date is not a DICOM date. */
export function dicomDateTime(da: string, tm: string, offset: string, fallbackOffset: string): string | undefined {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(da.trim());
  if (!d) return undefined;
  const date = `${d[1]}-${d[2]}-${d[3]}`;
  const t = /^(\d{2})(\d{2})?(\d{2})?(\.\d{1,6})?/.exec(tm.replace(/:/g, '').trim());
  if (!t) return date;
  const o = /^([+-])(\d{2})(\d{2})$/.exec(offset.trim());
  const zone = o ? `${o[1]}${o[2]}:${o[3]}` : fallbackOffset;
  return `${date}T${t[1]}:${t[2] ?? '00'}:${t[3] ?? '00'}${t[4] && t[3] ? t[4].slice(0, 4) : ''}${zone}`;
}

/** PN `Family^Given^Middle^Prefix^Suffix` → the name as written in Vietnamese order. */
function personName(pn: string): string {
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = pn.split('=')[0]!.split('^');
  return [prefix, family, middle, given, suffix].map((s) => s.trim()).filter(Boolean).join(' ');
}

function put<T extends { resourceType: string; id?: string }>(entries: BundleEntry[], r: T & { id: string }): Reference {
  entries.push({ fullUrl: `urn:uuid:${r.id}`, resource: r as BundleEntry['resource'], request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } });
  return { reference: `${r.resourceType}/${r.id}` };
}

function endpoint(entries: BundleEntry[], cfg: DicomSourceConfig): Reference | undefined {
  if (!cfg.wadoRsBase) return undefined;
  return put<Endpoint>(entries, {
    resourceType: 'Endpoint',
    id: deterministicId(cfg.facility, 'Endpoint', cfg.wadoRsBase),
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
    payloadType: [{ text: 'DICOM' }],
    payloadMimeType: ['application/dicom', 'application/dicom+json'],
    address: cfg.wadoRsBase,
  });
}

function study(records: DicomInstanceRecord[], cfg: DicomSourceConfig, issues: Issue[], ep: Reference | undefined): ImagingStudy & { id: string } | undefined {
  const first = records[0]!;
  const uid = first.studyInstanceUid;
  if (!first.patientId) {
    issues.push(issue('error', 'required', `Study ${uid}: Patient ID (0010,0020) is empty, so the study cannot be linked to a patient`, '(0010,0020)'));
    return undefined;
  }
  const zone = cfg.timezoneOffset ?? '+07:00';
  const seriesByUid = new Map<string, DicomInstanceRecord[]>();
  for (const r of records) if (r.seriesInstanceUid) seriesByUid.set(r.seriesInstanceUid, [...(seriesByUid.get(r.seriesInstanceUid) ?? []), r]);
  const series: ImagingStudySeries[] = [];
  for (const [seriesUid, rs] of seriesByUid) {
    const s = rs[0]!;
    if (!s.modality) {
      issues.push(issue('warning', 'required', `Series ${seriesUid}: Modality (0008,0060) is empty; series left out`, '(0008,0060)'));
      continue;
    }
    const instances = rs.filter((r) => r.sopInstanceUid && r.sopClassUid);
    const started = dicomDateTime(s.seriesDate, s.seriesTime, s.timezoneOffset, zone);
    series.push({
      uid: seriesUid,
      ...(/^\d+$/.test(s.seriesNumber) ? { number: Number(s.seriesNumber) } : {}),
      modality: { system: DCM, code: s.modality },
      ...(s.seriesDescription ? { description: s.seriesDescription } : {}),
      numberOfInstances: Number(s.seriesInstanceCount) || instances.length,
      ...(s.bodyPartExamined ? { bodySite: { display: s.bodyPartExamined } } : {}),
      ...(started ? { started } : {}),
      ...(instances.length ? {
        instance: instances.map((i) => ({
          uid: i.sopInstanceUid,
          sopClass: { system: 'urn:ietf:rfc:3986', code: `urn:oid:${i.sopClassUid}` },
          ...(/^\d+$/.test(i.instanceNumber) ? { number: Number(i.instanceNumber) } : {}),
        })),
      } : {}),
    });
  }
  const modalities = [...new Set([...records.flatMap((r) => r.modalitiesInStudy), ...series.map((s) => s.modality.code!)])].filter(Boolean);
  const accession = first.accessionNumber;
  const started = dicomDateTime(first.studyDate, first.studyTime, first.timezoneOffset, zone);
  const procedureCode = first.procedureCodes.map((p) => {
    const system = systemUri(p.scheme);
    const coding: Coding = { ...(system ? { system } : {}), ...(p.code ? { code: p.code } : {}), ...(p.meaning ? { display: p.meaning } : {}) };
    return { coding: [coding], ...(p.meaning ? { text: p.meaning } : {}) };
  });
  const referrer = personName(first.referringPhysician);
  return {
    resourceType: 'ImagingStudy',
    id: deterministicId(cfg.facility, 'ImagingStudy', uid),
    identifier: [
      { system: 'urn:dicom:uid', value: `urn:oid:${uid}` },
      ...(accession ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, ...(cfg.accessionSystem ? { system: cfg.accessionSystem } : {}), value: accession }] : []),
    ],
    status: 'available',
    ...(modalities.length ? { modality: modalities.map((code) => ({ system: DCM, code })) } : {}),
    // The same (facility, key) derivations the HL7 v2 mapper uses: PatientID is the hospital's MA_BN.
    subject: { reference: `Patient/${deterministicId(cfg.facility, 'Patient', first.patientId)}` },
    ...(started ? { started } : {}),
    ...(accession ? { basedOn: [{ reference: `ServiceRequest/${deterministicId(cfg.facility, 'ServiceRequest', accession)}` }] } : {}),
    ...(referrer ? { referrer: { display: referrer } } : {}),
    ...(ep ? { endpoint: [ep] } : {}),
    numberOfSeries: Number(first.studySeriesCount) || series.length,
    numberOfInstances: Number(first.studyInstanceCount) || series.reduce((n, s) => n + (s.numberOfInstances ?? 0), 0),
    ...(procedureCode.length ? { procedureCode } : {}),
    ...(first.studyDescription ? { description: first.studyDescription } : {}),
    ...(series.length ? { series } : {}),
  };
}

/** Records (one file, a DICOMDIR, or a QIDO result) → one ImagingStudy per Study Instance UID. */
export function mapDicom(records: DicomInstanceRecord[], cfg: DicomSourceConfig): { bundle?: Bundle; issues: Issue[] } {
  const issues: Issue[] = [];
  const byStudy = new Map<string, DicomInstanceRecord[]>();
  for (const r of records) {
    if (!r.studyInstanceUid) continue;
    byStudy.set(r.studyInstanceUid, [...(byStudy.get(r.studyInstanceUid) ?? []), r]);
  }
  if (!byStudy.size) {
    return { issues: [issue('error', 'required', 'No Study Instance UID (0020,000D): nothing to make an ImagingStudy of', '(0020,000D)')] };
  }
  const entries: BundleEntry[] = [];
  const ep = endpoint(entries, cfg);
  for (const rs of byStudy.values()) {
    const s = study(rs, cfg, issues, ep);
    if (s) put(entries, s);
  }
  if (!entries.some((e) => e.resource?.resourceType === 'ImagingStudy')) return { issues };
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, issues };
}

/**
 * Instances of one study arrive one file at a time, and each file maps to an ImagingStudy
 * holding only itself. Intake merges what it stores with what arrives, by series and
 * instance UID, so the study grows instead of being replaced.
 */
export function mergeImagingStudy(stored: ImagingStudy, incoming: ImagingStudy): ImagingStudy {
  const series = new Map((stored.series ?? []).map((s) => [s.uid, { ...s, instance: [...(s.instance ?? [])] }]));
  for (const s of incoming.series ?? []) {
    const have = series.get(s.uid);
    if (!have) {
      series.set(s.uid, { ...s, instance: [...(s.instance ?? [])] });
      continue;
    }
    const uids = new Set(have.instance.map((i) => i.uid));
    have.instance.push(...(s.instance ?? []).filter((i) => !uids.has(i.uid)));
    have.numberOfInstances = Math.max(have.numberOfInstances ?? 0, s.numberOfInstances ?? 0, have.instance.length);
  }
  const merged = [...series.values()].map((s) => (s.instance.length ? s : (({ instance: _drop, ...rest }) => rest)(s)));
  const modality = [...new Map([...(stored.modality ?? []), ...(incoming.modality ?? [])].map((m) => [m.code, m])).values()];
  return {
    ...stored,
    ...incoming,
    ...(modality.length ? { modality } : {}),
    series: merged,
    numberOfSeries: merged.length,
    numberOfInstances: merged.reduce((n, s) => n + (s.numberOfInstances ?? 0), 0),
  };
}
