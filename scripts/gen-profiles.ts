/**
 * Generates the project's conformance resources in `profiles/` from the Vietnamese code tables
 * in the shared corpora (QĐ 4469 ICD-10, QĐ 130/4750 enumerations). The output is committed and
 * must be byte-for-byte reproducible: no dates, no maps iterated in insertion-dependent order
 * other than the sources' own order. `npm run gen:profiles` rewrites the folder;
 * `VN_CORPORA` overrides where the tables are read from.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { StructureDefinition } from 'fhir/r4';
import { definitionResources } from '../src/fhir/definitions';

export const BASE = 'http://fhir.ehealth.gov.vn/core';
const SID = `${BASE}/sid`;
const CS = `${BASE}/CodeSystem`;
const VS = `${BASE}/ValueSet`;
const SD = `${BASE}/StructureDefinition`;
const CM = `${BASE}/ConceptMap`;
const PUBLISHER = 'FHIR gateway project (generated from QĐ 4469/QĐ-BYT, QĐ 130/4750/QĐ-BYT code tables)';

type Json = Record<string, unknown>;
interface CodeTable { source: string; confidence: string; values: Record<string, string> }

// ---------------------------------------------------------------- CSV (RFC 4180 subset)
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  const [header, ...body] = rows;
  return body.filter((r) => r.length > 1).map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

// ---------------------------------------------------------------- terminology
/** Tables of vn-code-tables.json that become CodeSystems: table key → resource id. */
const CLAIM_TABLES: Record<string, { id: string; title: string }> = {
  GIOI_TINH: { id: 'vn-claim-gioi-tinh', title: 'GIOI_TINH – sex as coded in claim XML' },
  KET_QUA_DTRI: { id: 'vn-claim-ket-qua-dtri', title: 'KET_QUA_DTRI – treatment outcome' },
  MA_LOAI_RV: { id: 'vn-claim-ma-loai-rv', title: 'MA_LOAI_RV – discharge type' },
  MA_LOAI_KCB: { id: 'vn-claim-ma-loai-kcb', title: 'MA_LOAI_KCB – visit type (hình thức KCB)' },
  MA_DOITUONG_KCB_QD3276: { id: 'vn-claim-ma-doituong-kcb', title: 'MA_DOITUONG_KCB – visit entitlement (QĐ 3276/2025)' },
  MA_KHUVUC: { id: 'vn-claim-ma-khuvuc', title: 'MA_KHUVUC – living-area code on the card' },
  MA_TAI_NAN: { id: 'vn-claim-ma-tai-nan', title: 'MA_TAI_NAN – injury cause' },
  PHAM_VI: { id: 'vn-claim-pham-vi', title: 'PHAM_VI – benefit-list scope' },
  NGUON_CTRA: { id: 'vn-claim-nguon-ctra', title: 'NGUON_CTRA – payment source' },
  MA_PTTT: { id: 'vn-claim-ma-pttt', title: 'MA_PTTT – payment method' },
  PP_VO_CAM: { id: 'vn-claim-pp-vo-cam', title: 'PP_VO_CAM – anaesthesia method' },
  MA_LYDO_CT: { id: 'vn-claim-ma-lydo-ct', title: 'MA_LYDO_CT – referral reason' },
  MA_NHOM: { id: 'vn-claim-ma-nhom', title: 'MA_NHOM – cost group' },
  MA_GIUONG_PREFIX: { id: 'vn-claim-ma-giuong-prefix', title: 'MA_GIUONG prefix – bed kind' },
  MA_XANG_DAU_QD3276: { id: 'vn-claim-ma-xang-dau', title: 'MA_XANG_DAU – fuel price code for patient transport (QĐ 3276/2025)' },
  BHYT_CARD_BENEFIT_DIGIT: { id: 'vn-bhyt-benefit-level', title: 'BHYT card benefit level (3rd character of the card code)' },
  VSS_CARD_LOOKUP_maKetQua: { id: 'vn-vss-card-lookup-result', title: 'VSS card lookup result code (maKetQua)' },
};

const CSST_CONCEPTS: Json[] = [
  ['M', 'Mạch', 'pulse, beats per minute'], ['T', 'Nhiệt độ', 'temperature, °C'], ['HA', 'Huyết áp', 'blood pressure, systolic/diastolic mmHg'],
  ['HA-TT', 'Huyết áp tâm thu', 'systolic'], ['HA-TTR', 'Huyết áp tâm trương', 'diastolic'], ['NT', 'Nhịp thở', 'respiratory rate per minute'],
  ['SP', 'SpO2', 'oxygen saturation, %'], ['HL', 'Cấp hộ lý', 'nursing care level'], ['CN', 'Cân nặng', 'weight, kg (XML1 CAN_NANG)'],
].map(([code, display, en]) => ({ code, display, designation: [{ language: 'en', value: en }] }));

const LOOKUP_OUTCOMES: Json[] = [
  ['in-force', 'Card in force'],
  ['in-force-check-papers', 'Card in force; check the ID papers (card managed by the MoD / MPS branch)'],
  ['not-in-force', 'Card not in force or not matching the person'],
  ['gateway-configuration', 'The gateway\'s portal account or officer is not accepted: fix the configuration'],
  ['upstream-failure', 'The portal could not answer'],
].map(([code, display]) => ({ code, display }));

/** VN Core already publishes the ethnic-group CodeSystem; keep its canonical. */
const ETHNIC_CS = `${CS}/vn-core-race`;

/** Code systems whose content lives outside this project (national lists not published as data). */
const EXTERNAL_SYSTEMS: { id: string; title: string }[] = [
  { id: 'vn-dmdc-dich-vu', title: 'DMDC medical services (MA_DICH_VU, QĐ 7603/2018 → QĐ 2010/2025)' },
  { id: 'vn-dmdc-thuoc', title: 'DMDC drug active-ingredient codes (MA_THUOC)' },
  { id: 'vn-dmdc-vat-tu', title: 'VSS medical-supply codes (MA_VAT_TU)' },
  { id: 'vn-dmdc-chi-so', title: 'Para-clinical result parameter codes (MA_CHI_SO, QĐ 1227/2025)' },
  { id: 'vn-dmdc-duong-dung', title: 'Drug route codes (DUONG_DUNG)' },
  { id: 'vn-dmdc-khoa', title: 'Department codes (MA_KHOA, QĐ 5937/2021 → QĐ 2010/2025 PL6)' },
  { id: 'vn-icd9cm', title: 'ICD-9-CM procedures, Vietnamese edition (QĐ 4440/2020)' },
  { id: 'vn-nationality', title: 'Nationality codes (TT 07/2016/TT-BCA appendix 2; 000 used by vendors for Việt Nam)' },
  { id: 'vn-occupation', title: 'Occupation codes (QĐ 34/2020/QĐ-TTg)' },
  { id: 'vn-admin-unit', title: 'Administrative-unit codes (QĐ 124/2004/QĐ-TTg)' },
];

function meta(resourceType: string, id: string, url: string, title: string, extra: Json = {}): Json {
  return {
    resourceType, id, url, version: '0.1.0', name: id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, ''),
    title, status: 'draft', experimental: false, publisher: PUBLISHER, ...extra,
  };
}

function codeSystem(id: string, title: string, concepts: Json[], extra: Json = {}): Json {
  return meta('CodeSystem', id, `${CS}/${id}`, title, {
    caseSensitive: true, content: 'complete', count: concepts.length, ...extra, ...(concepts.length ? { concept: concepts } : {}),
  });
}

function valueSetAll(id: string, title: string, system: string): Json {
  return meta('ValueSet', id, `${VS}/${id}`, title, { compose: { include: [{ system }] } });
}

/** "Nam (male)" → display "Nam", English in a designation. */
function splitDisplay(text: string): { display: string; en?: string } {
  const m = /^(.*?)\s*\(([^)]*)\)\s*(.*)$/.exec(text);
  if (!m || !m[1]) return { display: text.trim() };
  return { display: (m[1] + (m[3] ? ` ${m[3]}` : '')).trim(), en: m[2] };
}

function tableConcepts(values: Record<string, string>): Json[] {
  return Object.entries(values).flatMap(([code, text]) =>
    code.split('/').map((c) => {
      const { display, en } = splitDisplay(text);
      return { code: c, display, ...(en ? { designation: [{ language: 'en', value: en }] } : {}) };
    }),
  );
}

/**
 * The decision prints dagger/asterisk marks on codes (A17.0†, D63.0*) and sometimes lists a
 * category both plain and marked (A17 and A17†); claims send the bare code. Concepts are keyed by
 * the bare code, the mark kept as a property, and the annex flags of all listings combined.
 */
function icd10(rows: Record<string, string>[], chapters: Record<string, string>[]): Json {
  const byCode = new Map<string, { row: Record<string, string>; marks: Set<string>; notPrincipal: boolean; sex: Set<string> }>();
  for (const r of rows) {
    const code = r.code!.replace(/[†*]/g, '');
    const entry = byCode.get(code) ?? { row: r, marks: new Set<string>(), notPrincipal: false, sex: new Set<string>() };
    byCode.set(code, entry);
    if (r.code!.includes('†')) entry.marks.add('dagger');
    if (r.code!.includes('*')) entry.marks.add('asterisk');
    if (r.not_primary_A2 === '1') entry.notPrincipal = true;
    if (r.female_only_A4_1 === '1') entry.sex.add('female');
    if (r.male_only_A4_2 === '1') entry.sex.add('male');
  }
  const concepts: Json[] = [];
  for (const [code, { row: r, marks, notPrincipal, sex }] of byCode) {
    const props: Json[] = [{ code: 'chapter', valueCode: r.chapter_no }];
    if (r.category_code && r.category_code !== code) props.push({ code: 'parent', valueCode: r.category_code });
    for (const m of marks) props.push({ code: 'dagger-asterisk', valueCode: m });
    if (notPrincipal) props.push({ code: 'not-principal', valueBoolean: true });
    for (const x of sex) props.push({ code: 'sex', valueCode: x });
    concepts.push({ code, display: r.name_vi, designation: [{ language: 'en', value: r.name_en }], property: props });
  }
  return codeSystem('vn-icd10', 'ICD-10, Vietnamese edition (QĐ 4469/QĐ-BYT, 2020)', concepts, {
    description: 'Codes with the dot (E11.9), without dagger/asterisk marks. Properties carry the decision\'s annexes: A2 (may not be the principal diagnosis) and A4.1/A4.2 (female-/male-only codes). Chapters: ' +
      chapters.map((c) => `${c.chapter_no} ${c.chapter_range}`).join('; '),
    hierarchyMeaning: 'is-a',
    property: [
      { code: 'chapter', description: 'Chapter (roman numeral)', type: 'code' },
      { code: 'parent', uri: 'http://hl7.org/fhir/concept-properties#parent', description: '3-character category', type: 'code' },
      { code: 'dagger-asterisk', description: 'Printed mark of the dual-classification system: dagger (aetiology) or asterisk (manifestation)', type: 'code' },
      { code: 'not-principal', description: 'QĐ 4469 annex A2: may not be coded as the principal diagnosis', type: 'boolean' },
      { code: 'sex', description: 'QĐ 4469 annexes A4.1/A4.2: code only valid for this administrative gender', type: 'code' },
    ],
  });
}

// ---------------------------------------------------------------- concept maps
interface MapRow { source: string; target?: string; display?: string; equivalence?: string; comment?: string }

function conceptMap(id: string, title: string, sourceSystem: string, targetSystem: string, rows: MapRow[]): Json {
  return meta('ConceptMap', id, `${CM}/${id}`, title, {
    sourceUri: `${VS}/${sourceSystem.split('/').pop()}`,
    group: [{
      source: sourceSystem, target: targetSystem,
      element: rows.map((r) => ({
        code: r.source,
        target: [r.target
          ? { code: r.target, ...(r.display ? { display: r.display } : {}), equivalence: r.equivalence ?? 'equivalent', ...(r.comment ? { comment: r.comment } : {}) }
          : { equivalence: 'unmatched', ...(r.comment ? { comment: r.comment } : {}) }],
      })),
    }],
  });
}

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const SNOMED = 'http://snomed.info/sct';

function conceptMaps(): Json[] {
  const amb = (s: string, comment?: string): MapRow => ({ source: s, target: 'AMB', display: 'ambulatory', equivalence: 'wider', comment });
  const outcome = (target: string, codes: string[], comment?: string): MapRow[] => codes.map((source) => ({ source, target, equivalence: 'wider', comment }));
  return [
    // Vendors treat 003/010/05x/06x/070/11x/12x/130 as "invalid card" (reference §5.3).
    conceptMap('vn-vss-card-lookup-result-to-outcome', 'VSS maKetQua → what the gateway answers', `${CS}/vn-vss-card-lookup-result`, `${CS}/vn-vss-card-lookup-outcome`, [
      ...outcome('in-force', ['000', '004']),
      ...outcome('in-force-check-papers', ['001', '002']),
      ...outcome('not-in-force', ['003', '010', '050', '051', '052', '053', '060', '061', '070', '110', '120', '121', '122', '123', '124', '130']),
      ...outcome('gateway-configuration', ['054', '055', '401']),
      ...outcome('gateway-configuration', ['205'], 'the portal rejected the format of the parameters the gateway sent'),
      ...outcome('upstream-failure', ['100', '101']),
    ]),
    conceptMap('vn-gioi-tinh-to-administrative-gender', 'GIOI_TINH → AdministrativeGender', `${CS}/vn-claim-gioi-tinh`, 'http://hl7.org/fhir/administrative-gender', [
      { source: '1', target: 'male', display: 'Male' },
      { source: '2', target: 'female', display: 'Female' },
      { source: '3', target: 'unknown', display: 'Unknown', equivalence: 'wider', comment: 'Chưa xác định (not determined)' },
    ]),
    conceptMap('vn-ma-loai-kcb-to-encounter-class', 'MA_LOAI_KCB → v3 ActCode encounter class', `${CS}/vn-claim-ma-loai-kcb`, ACT_CODE, [
      amb('01', 'outpatient examination'), amb('02', 'outpatient treatment episode'),
      { source: '03', target: 'IMP', display: 'inpatient encounter' },
      { source: '04', target: 'SS', display: 'short stay', equivalence: 'wider', comment: 'day inpatient' },
      amb('05', 'chronic disease, exam and drugs'),
      { source: '06', target: 'IMP', display: 'inpatient encounter', equivalence: 'wider', comment: 'stay at a commune health station' },
      amb('07', 'drug pick-up by appointment'), amb('08', 'chronic disease with services'),
      { source: '09', target: 'SS', display: 'short stay', comment: 'inpatient under 4 hours' },
      amb('10'), { source: '11', target: 'FLD', display: 'field' }, { source: '12', target: 'HH', display: 'home health' },
      amb('13', 'family medicine'), { source: '14', target: 'VR', display: 'virtual' }, amb('15', 'periodic health check'), amb('16', 'screening'),
    ]),
    conceptMap('vn-ma-loai-rv-to-discharge-disposition', 'MA_LOAI_RV → discharge disposition', `${CS}/vn-claim-ma-loai-rv`, 'http://terminology.hl7.org/CodeSystem/discharge-disposition', [
      { source: '1', target: 'home', display: 'Home', equivalence: 'wider' },
      { source: '2', target: 'other-hcf', display: 'Other healthcare facility', comment: 'transfer for clinical need' },
      { source: '3', target: 'aadvice', display: 'Left against advice', equivalence: 'wider', comment: 'absconded' },
      { source: '4', target: 'aadvice', display: 'Left against advice', equivalence: 'wider', comment: 'discharged at own request' },
      { source: '5', target: 'other-hcf', display: 'Other healthcare facility', equivalence: 'wider', comment: 'transfer at patient request' },
    ]),
    conceptMap('vn-ket-qua-dtri-to-condition-clinical', 'KET_QUA_DTRI → Condition clinical status of the principal diagnosis', `${CS}/vn-claim-ket-qua-dtri`, 'http://terminology.hl7.org/CodeSystem/condition-clinical', [
      { source: '1', target: 'resolved', display: 'Resolved' },
      { source: '2', target: 'active', display: 'Active', equivalence: 'wider', comment: 'improved' },
      { source: '3', target: 'active', display: 'Active', equivalence: 'wider' },
      { source: '4', target: 'active', display: 'Active', equivalence: 'wider' },
      { source: '5', comment: 'died: the condition status is not implied' },
      { source: '6', target: 'active', display: 'Active', equivalence: 'wider' },
      { source: '7', comment: 'not determined' },
      { source: '8', comment: 'died outside hospital' },
    ]),
    conceptMap('vn-ma-nhom-to-service-category', 'MA_NHOM → ServiceRequest category (groups that are orders for a clinical service)', `${CS}/vn-claim-ma-nhom`, SNOMED, [
      { source: '1', target: '108252007', display: 'Laboratory procedure' },
      { source: '2', target: '363679005', display: 'Imaging' },
      { source: '3', target: '103693007', display: 'Diagnostic procedure', equivalence: 'wider', comment: 'functional tests' },
      { source: '8', target: '387713003', display: 'Surgical procedure', equivalence: 'wider', comment: 'procedures and surgery' },
      { source: '18', target: '387713003', display: 'Surgical procedure', equivalence: 'inexact', comment: 'group name unverified; portal rules treat it like 8' },
    ]),
    conceptMap('vn-ma-nhom-to-diagnostic-service-section', 'MA_NHOM → DiagnosticReport category (v2 0074)', `${CS}/vn-claim-ma-nhom`, 'http://terminology.hl7.org/CodeSystem/v2-0074', [
      { source: '1', target: 'LAB', display: 'Laboratory' },
      { source: '2', target: 'RAD', display: 'Radiology' },
      { source: '3', target: 'OTH', display: 'Other', equivalence: 'wider', comment: 'functional tests' },
    ]),
    conceptMap('vn-csst-to-loinc', 'CSST vital-sign key → LOINC (FHIR vital signs profile codes)', `${CS}/vn-claim-csst`, 'http://loinc.org', [
      { source: 'M', target: '8867-4', display: 'Heart rate', equivalence: 'wider', comment: 'mạch (pulse)' },
      { source: 'T', target: '8310-5', display: 'Body temperature' },
      { source: 'HA', target: '85354-6', display: 'Blood pressure panel with all children optional' },
      { source: 'HA-TT', target: '8480-6', display: 'Systolic blood pressure' },
      { source: 'HA-TTR', target: '8462-4', display: 'Diastolic blood pressure' },
      { source: 'NT', target: '9279-1', display: 'Respiratory rate' },
      { source: 'SP', target: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
      { source: 'CN', target: '29463-7', display: 'Body weight' },
      { source: 'HL', comment: 'nursing care level: not a vital sign' },
    ]),
    conceptMap('vn-csst-to-ucum', 'CSST vital-sign key → UCUM unit the source value is written in', `${CS}/vn-claim-csst`, 'http://unitsofmeasure.org', [
      { source: 'M', target: '/min', display: 'beats/minute' },
      { source: 'T', target: 'Cel', display: 'C' },
      { source: 'HA-TT', target: 'mm[Hg]', display: 'mmHg' },
      { source: 'HA-TTR', target: 'mm[Hg]', display: 'mmHg' },
      { source: 'NT', target: '/min', display: 'breaths/minute' },
      { source: 'SP', target: '%', display: '%' },
      { source: 'CN', target: 'kg', display: 'kg' },
    ]),
    conceptMap('vn-ma-nhom-to-procedure', 'MA_NHOM → Procedure category for performed services', `${CS}/vn-claim-ma-nhom`, SNOMED, [
      { source: '8', target: '387713003', display: 'Surgical procedure', equivalence: 'wider' },
      { source: '18', target: '387713003', display: 'Surgical procedure', equivalence: 'inexact' },
    ]),
  ];
}

// ---------------------------------------------------------------- naming systems
const NAMING: { id: string; uri: string; name: string; kind: 'identifier'; description: string; type?: string }[] = [
  { id: 'vn-national-id', uri: `${SID}/national_id`, name: 'VNNationalId', kind: 'identifier', description: 'Căn cước công dân (CCCD), 12 digits', type: 'NI' },
  { id: 'vn-cmnd', uri: `${SID}/cmnd`, name: 'VNCmnd', kind: 'identifier', description: 'Old identity card (CMND), 9 digits', type: 'NI' },
  { id: 'vn-passport', uri: `${SID}/passport`, name: 'VNPassport', kind: 'identifier', description: 'Passport number as written in SO_CCCD (1 uppercase letter + 7 digits)', type: 'PPN' },
  { id: 'vn-vneid', uri: `${SID}/vneid`, name: 'VNeID', kind: 'identifier', description: 'VNeID electronic-identity account code written in SO_CCCD when no ID document exists' },
  { id: 'vn-insurance-number', uri: `${SID}/insurance_number`, name: 'VNInsuranceNumber', kind: 'identifier', description: 'BHYT card code, 15 characters: group (2 letters), benefit level (1–5), province (2 digits), BHXH number (10 digits)', type: 'MB' },
  { id: 'vn-social-insurance-number', uri: `${SID}/social_insurance_number`, name: 'VNSocialInsuranceNumber', kind: 'identifier', description: 'Mã số BHXH: the 10-digit social-insurance number, the person\'s permanent health id (last 10 characters of the card code)', type: 'SB' },
  { id: 'vn-provider-code', uri: `${SID}/provider-code`, name: 'VNProviderCode', kind: 'identifier', description: 'Facility code MA_CSKCB (5 characters, issued by the authority)', type: 'PRN' },
  { id: 'vn-patient-internal-id', uri: `${SID}/patient-internal-id`, name: 'VNPatientInternalId', kind: 'identifier', description: 'Patient id inside one facility (MA_BN); the facility is the identifier\'s assigner', type: 'MR' },
  { id: 'vn-claim-episode', uri: `${SID}/claim-episode`, name: 'VNClaimEpisode', kind: 'identifier', description: 'Episode-of-care key MA_LK of the claim XML, unique within the facility that is the assigner', type: 'VN' },
  { id: 'vn-practitioner-license', uri: `${SID}/practitioner-license`, name: 'VNPractitionerLicense', kind: 'identifier', description: 'Practising-certificate number (CCHN) as written in MA_BAC_SI / NGUOI_THUC_HIEN', type: 'LN' },
  { id: 'vn-referral-letter', uri: `${SID}/referral-letter`, name: 'VNReferralLetter', kind: 'identifier', description: 'Referral letter number (GIAY_CHUYEN_TUYEN / SO_CHUYENTUYEN), within the issuing facility' },
  { id: 'vn-appointment-slip', uri: `${SID}/appointment-slip`, name: 'VNAppointmentSlip', kind: 'identifier', description: 'Re-visit appointment slip number (SO_GIAYHEN_KL), within the issuing facility' },
];

function namingSystems(): Json[] {
  return NAMING.map((n) => ({
    resourceType: 'NamingSystem', id: n.id, name: n.name, status: 'draft', kind: n.kind, publisher: PUBLISHER, description: n.description,
    ...(n.type ? { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: n.type }] } } : {}),
    uniqueId: [{ type: 'uri', value: n.uri, preferred: true }],
  }));
}

// ---------------------------------------------------------------- structure definitions
const CARD_REGEX = '^[A-Z]{2}[1-5][0-9]{2}[0-9]{10}$';
const CCCD_REGEX = '^[0-9]{12}$';
const MA_CSKCB_REGEX = '^[0-9A-Z]{5}$';

function profile(id: string, type: string, title: string, elements: Json[], kind: 'resource' | 'complex-type' = 'resource', context?: string[]): Json {
  return meta('StructureDefinition', id, `${SD}/${id}`, title, {
    fhirVersion: '4.0.1', kind, abstract: false,
    ...(context ? { context: context.map((expression) => ({ type: 'element', expression })) } : {}),
    type, baseDefinition: `http://hl7.org/fhir/StructureDefinition/${type}`, derivation: 'constraint',
    differential: { element: elements.map((e) => ({ id: e.path, ...e })) },
  });
}

function withSnapshot(sd: Json): Json {
  return { ...sd, snapshot: { element: snapshotOf(sd) } };
}

const el = (path: string, rest: Json = {}): Json => ({ path, ...rest });
const sliceSystem = (path: string, rules: 'open' | 'closed' = 'open'): Json =>
  el(path, { slicing: { discriminator: [{ type: 'value', path: 'system' }], rules } });
const slice = (path: string, name: string, system: string, min: number): Json[] => {
  const base = `${path}:${name}`;
  return [
    { id: base, path, sliceName: name, min, max: '*' },
    { id: `${base}.system`, path: `${path}.system`, min: 1, fixedUri: system },
    { id: `${base}.value`, path: `${path}.value`, min: 1 },
  ];
};
/**
 * Identifier formats as invariants on the resource itself, so any validator that evaluates
 * constraints enforces them, whether or not it understands slicing.
 */
const formatInvariant = (profileId: string, key: string, element: string, system: string, regex: string, human: string): Json => ({
  key, severity: 'error', human, expression: `${element}.where(system = '${system}').all(value.matches('${regex}'))`, source: `${SD}/${profileId}`,
});
const extSlice = (path: string, name: string, url: string, min = 0, max = '1'): Json =>
  ({ id: `${path}:${name}`, path, sliceName: name, min, max, type: [{ code: 'Extension', profile: [url] }] });

function simpleExtension(id: string, title: string, context: string[], valueType: string, binding?: string, targetProfile?: string): Json {
  return profile(id, 'Extension', title, [
    el('Extension', { short: title }),
    el('Extension.extension', { max: '0' }),
    el('Extension.url', { fixedUri: `${SD}/${id}` }),
    el('Extension.value[x]', {
      min: 1, type: [{ code: valueType, ...(targetProfile ? { targetProfile: [targetProfile] } : {}) }],
      ...(binding ? { binding: { strength: 'required', valueSet: binding } } : {}),
    }),
  ], 'complex-type', context);
}

function adminUnitExtension(): Json {
  const id = 'vn-admin-unit';
  const part = (name: string, short: string): Json[] => [
    { id: `Extension.extension:${name}`, path: 'Extension.extension', sliceName: name, min: 0, max: '1', short },
    { id: `Extension.extension:${name}.url`, path: 'Extension.extension.url', fixedUri: name },
    { id: `Extension.extension:${name}.value[x]`, path: 'Extension.extension.value[x]', min: 1, type: [{ code: 'Coding' }] },
  ];
  return profile(id, 'Extension', 'Administrative-unit codes of an address (province MATINH, district MAHUYEN, commune MAXA)', [
    el('Extension'),
    el('Extension.extension', { slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'closed' }, min: 1 }),
    ...part('province', 'Tỉnh (province) code'), ...part('district', 'Huyện (district) code'), ...part('commune', 'Xã (commune/ward) code'),
    el('Extension.url', { fixedUri: `${SD}/${id}` }),
    el('Extension.value[x]', { max: '0' }),
  ], 'complex-type', ['Address']);
}

function structureDefinitions(): Json[] {
  const orgRef = [{ code: 'Reference', targetProfile: [`${SD}/vn-organization`] }];
  return [
    simpleExtension('vn-ethnic-group', 'Ethnic group (MA_DANTOC)', ['Patient'], 'Coding', `${VS}/vn-core-race`),
    simpleExtension('vn-treatment-outcome', 'Treatment outcome (KET_QUA_DTRI)', ['Encounter'], 'CodeableConcept', `${VS}/vn-claim-ket-qua-dtri`),
    simpleExtension('vn-visit-entitlement', 'Visit entitlement (MA_DOITUONG_KCB)', ['Encounter'], 'Coding'),
    simpleExtension('vn-registered-facility', 'Registered primary-care facility on the card (MA_DKBD)', ['Coverage'], 'Reference', undefined, `${SD}/vn-organization`),
    simpleExtension('vn-issuing-province', 'Province that issued the card (characters 4–5 of the card code)', ['Coverage'], 'Coding'),
    simpleExtension('vn-five-years-continuous', 'Date from which the card holder has five consecutive years of cover (ngayDu5Nam)', ['Coverage'], 'date'),
    simpleExtension('vn-living-area', 'Living-area code printed on the card (maKV / MA_KHUVUC)', ['Coverage'], 'Coding', `${VS}/vn-claim-ma-khuvuc`),
    ...([['insured', 'Amount within insurance scope (THANH_TIEN_BH / T_TONGCHI_BH)'], ['payable', 'Amount claimed from VSS (T_BHTT)'], ['copay', 'Patient co-payment within scope (T_BNCCT)'], ['self-pay', 'Patient self-pay outside scope (T_BNTT)']] as const)
      .map(([kind, title]) => simpleExtension(`vn-claim-amount-${kind}`, title, ['Claim', 'Claim.item'], 'Money')),
    adminUnitExtension(),
    profile('vn-patient', 'Patient', 'VN Patient', [
      el('Patient', { constraint: [
        formatInvariant('vn-patient', 'vn-pat-1', 'identifier', `${SID}/national_id`, CCCD_REGEX, 'CCCD is 12 digits'),
        formatInvariant('vn-patient', 'vn-pat-2', 'identifier', `${SID}/insurance_number`, CARD_REGEX, 'BHYT card code: 2 letters, benefit level 1–5, 2-digit province, 10-digit BHXH number'),
        formatInvariant('vn-patient', 'vn-pat-3', 'identifier', `${SID}/social_insurance_number`, '^[0-9]{10}$', 'BHXH number is 10 digits'),
      ] }),
      el('Patient.extension', { slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } }),
      extSlice('Patient.extension', 'ethnicGroup', `${SD}/vn-ethnic-group`),
      extSlice('Patient.extension', 'nationality', 'http://hl7.org/fhir/StructureDefinition/patient-nationality'),
      sliceSystem('Patient.identifier'),
      ...slice('Patient.identifier', 'cccd', `${SID}/national_id`, 0),
      ...slice('Patient.identifier', 'bhyt', `${SID}/insurance_number`, 0),
      ...slice('Patient.identifier', 'bhxh', `${SID}/social_insurance_number`, 0),
      ...slice('Patient.identifier', 'maBN', `${SID}/patient-internal-id`, 0),
      { id: 'Patient.identifier:maBN.assigner', path: 'Patient.identifier.assigner', min: 1, type: orgRef },
      el('Patient.name', { min: 1 }),
      el('Patient.gender', { min: 1 }),
      el('Patient.birthDate', { min: 1 }),
      el('Patient.address.extension', { slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } }),
      extSlice('Patient.address.extension', 'adminUnit', `${SD}/vn-admin-unit`),
    ]),
    profile('vn-organization', 'Organization', 'VN Organization (facility by MA_CSKCB)', [
      el('Organization', { constraint: [
        formatInvariant('vn-organization', 'vn-org-1', 'identifier', `${SID}/provider-code`, MA_CSKCB_REGEX, 'MA_CSKCB is 5 characters'),
        { key: 'vn-org-2', severity: 'error', human: 'An organization has a facility code or a name', expression: 'identifier.exists() or name.exists()', source: `${SD}/vn-organization` },
      ] }),
      sliceSystem('Organization.identifier'),
      ...slice('Organization.identifier', 'maCSKCB', `${SID}/provider-code`, 0),
    ]),
    profile('vn-encounter', 'Encounter', 'VN Encounter (one claim episode, MA_LK)', [
      el('Encounter', { constraint: [{ key: 'vn-enc-1', severity: 'error', human: 'Admission (NGAY_VAO) is not after discharge (NGAY_RA)', expression: 'period.start.empty() or period.end.empty() or period.start <= period.end', source: `${SD}/vn-encounter` }] }),
      el('Encounter.extension', { slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } }),
      extSlice('Encounter.extension', 'treatmentOutcome', `${SD}/vn-treatment-outcome`),
      extSlice('Encounter.extension', 'visitEntitlement', `${SD}/vn-visit-entitlement`),
      sliceSystem('Encounter.identifier'),
      ...slice('Encounter.identifier', 'maLK', `${SID}/claim-episode`, 1),
      el('Encounter.class', { binding: { strength: 'extensible', valueSet: 'http://terminology.hl7.org/ValueSet/v3-ActEncounterCode' } }),
      el('Encounter.subject', { min: 1 }),
      el('Encounter.period', { min: 1 }),
      el('Encounter.period.start', { min: 1 }),
      el('Encounter.serviceProvider', { min: 1, type: orgRef }),
    ]),
    profile('vn-coverage', 'Coverage', 'VN Coverage (one BHYT card)', [
      el('Coverage', { constraint: [
        formatInvariant('vn-coverage', 'vn-cov-1', 'identifier', `${SID}/insurance_number`, CARD_REGEX, 'BHYT card code: 2 letters, benefit level 1–5, 2-digit province, 10-digit BHXH number'),
        { key: 'vn-cov-2', severity: 'error', human: 'Benefit level (class of type plan) is 1–5', expression: "class.where(type.coding.code = 'plan').all(value.matches('^[1-5]$'))", source: `${SD}/vn-coverage` },
      ] }),
      el('Coverage.extension', { slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } }),
      extSlice('Coverage.extension', 'registeredFacility', `${SD}/vn-registered-facility`),
      extSlice('Coverage.extension', 'issuingProvince', `${SD}/vn-issuing-province`),
      sliceSystem('Coverage.identifier'),
      ...slice('Coverage.identifier', 'bhyt', `${SID}/insurance_number`, 1),
      el('Coverage.subscriberId', { min: 1 }),
      el('Coverage.period', { min: 1 }),
      el('Coverage.class', { slicing: { discriminator: [{ type: 'pattern', path: 'type' }], rules: 'open' } }),
      { id: 'Coverage.class:benefitLevel', path: 'Coverage.class', sliceName: 'benefitLevel', min: 1, max: '1', short: 'Benefit level: 3rd character of the card code' },
      { id: 'Coverage.class:benefitLevel.type', path: 'Coverage.class.type', patternCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] } },
    ]),
  ];
}

// ---------------------------------------------------------------- snapshots
type Element = Json & { id: string; path: string; type?: { code: string }[]; constraint?: Json[] };
let baseDefinitions: Map<string, StructureDefinition> | undefined;

function baseDefinition(type: string): StructureDefinition {
  baseDefinitions ??= new Map(
    [...definitionResources<StructureDefinition>('resources', 'StructureDefinition'), ...definitionResources<StructureDefinition>('types', 'StructureDefinition')].map((sd) => [sd.url, sd]),
  );
  const sd = baseDefinitions.get(`http://hl7.org/fhir/StructureDefinition/${type}`);
  if (!sd?.snapshot) throw new Error(`no R4 definition for ${type}`);
  return sd;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const parentId = (id: string): string => id.slice(0, id.lastIndexOf('.'));
const inSubtree = (id: string, root: string): boolean => id === root || id.startsWith(`${root}.`) || id.startsWith(`${root}:`);

/** Makes `id` present by unfolding the data type of its nearest present ancestor (Period under Encounter.period, …). */
function ensureElement(els: Element[], id: string): Element {
  const found = els.find((e) => e.id === id);
  if (found) return found;
  const parent = ensureElement(els, parentId(id));
  const type = parent.type?.[0]?.code;
  if (!type || type === 'BackboneElement' || type === 'Element' || els.some((e) => e.id.startsWith(`${parent.id}.`))) throw new Error(`cannot resolve element ${id}`);
  const children = (baseDefinition(type).snapshot!.element.slice(1) as unknown as Element[]).map((c) => ({
    ...clone(c), id: parent.id + c.id.slice(type.length), path: parent.path + c.path.slice(type.length),
  }));
  els.splice(els.indexOf(parent) + 1, 0, ...children);
  const made = els.find((e) => e.id === id);
  if (!made) throw new Error(`no element ${id} in ${type}`);
  return made;
}

function mergeInto(target: Element, diff: Json): void {
  for (const [k, v] of Object.entries(diff)) {
    if (k === 'id' || k === 'path') continue;
    target[k] = k === 'constraint' ? [...(target.constraint ?? []), ...clone(v as Json[])] : clone(v);
  }
}

/**
 * Snapshot = the R4 base snapshot with the differential applied: unsliced constraints merged in
 * place, each slice a copy of the sliced element's subtree placed after it. Enough for the
 * shapes used here (identifier/extension/class slices, constraints on data-type children).
 */
export function snapshotOf(sd: Json): Element[] {
  const els = clone(baseDefinition(sd.type as string).snapshot!.element) as unknown as Element[];
  const diff = (sd.differential as { element: Element[] }).element;
  for (const d of diff.filter((e) => !e.id.includes(':'))) mergeInto(ensureElement(els, d.id), d);
  const sliceRoots = [...new Set(diff.filter((e) => e.id.includes(':')).map((e) => /^[^:]*:[^.]+/.exec(e.id)![0]))];
  for (const root of sliceRoots) {
    const sliced = root.slice(0, root.lastIndexOf(':'));
    const subtree = els.filter((e) => e.id === sliced || e.id.startsWith(`${sliced}.`));
    const copy = subtree.map((e) => ({ ...clone(e), id: root + e.id.slice(sliced.length) }));
    delete (copy[0] as Json).slicing;
    let last = -1;
    els.forEach((e, i) => { if (inSubtree(e.id, sliced)) last = i; });
    els.splice(last + 1, 0, ...copy);
    for (const d of diff.filter((e) => inSubtree(e.id, root))) mergeInto(ensureElement(els, d.id), d);
  }
  return els;
}

// ---------------------------------------------------------------- assembly
export function buildProfiles(corporaDir: string): Map<string, string> {
  const tables = JSON.parse(readFileSync(join(corporaDir, 'vn-code-tables.json'), 'utf8')) as Record<string, CodeTable>;
  const icdRows = parseCsv(readFileSync(join(corporaDir, 'icd10-vn-qd4469.csv'), 'utf8'));
  const chapters = parseCsv(readFileSync(join(corporaDir, 'icd10-vn-qd4469-chapters.csv'), 'utf8'));
  const resources: Json[] = [];

  const icd = icd10(icdRows, chapters);
  resources.push(icd, valueSetAll('vn-icd10', 'ICD-10 Vietnamese edition, all codes', `${CS}/vn-icd10`));
  resources.push(meta('ValueSet', 'vn-icd10-principal', `${VS}/vn-icd10-principal`, 'ICD-10 codes allowed as principal diagnosis (QĐ 4469 annex A2 excluded)', {
    compose: { include: [{ system: `${CS}/vn-icd10` }], exclude: [{ system: `${CS}/vn-icd10`, filter: [{ property: 'not-principal', op: '=', value: 'true' }] }] },
  }));
  for (const [key, { id, title }] of Object.entries(CLAIM_TABLES)) {
    const t = tables[key];
    if (!t) throw new Error(`vn-code-tables.json has no table ${key}`);
    const concepts = tableConcepts(t.values);
    // The benefit level's share paid by the fund, as a number a Coverage can carry ("95%" → 95).
    const extra = id === 'vn-bhyt-benefit-level' ? { property: [{ code: 'percentage', description: 'Share of the covered cost paid by the fund, in percent', type: 'integer' }] } : {};
    if (id === 'vn-bhyt-benefit-level') for (const c of concepts) c.property = [{ code: 'percentage', valueInteger: Number(/^(\d+)%/.exec(c.display as string)![1]) }];
    resources.push(codeSystem(id, title, concepts, { description: `Source: ${t.source}. Confidence: ${t.confidence}.`, ...extra }));
    resources.push(valueSetAll(id, title, `${CS}/${id}`));
  }
  resources.push(codeSystem('vn-vss-card-lookup-outcome', 'What the gateway makes of a VSS card lookup result', LOOKUP_OUTCOMES, {
    description: 'Groups the portal\'s maKetQua codes by what the gateway answers: the card is in force, in force but the ID papers must be checked, not in force, the gateway\'s own portal account is misconfigured, or the portal failed.',
  }), valueSetAll('vn-vss-card-lookup-outcome', 'VSS card lookup outcome', `${CS}/vn-vss-card-lookup-outcome`));
  // Card groups (first two characters of the card code) with the benefit levels they are issued at.
  const groups = (tables.BHYT_CARD_OBJECT_CODE_BY_DIGIT as unknown as { source: string; confidence: string; values: Record<string, string[]> });
  const levels = new Map<string, string[]>();
  for (const [digit, codes] of Object.entries(groups.values)) for (const c of codes) levels.set(c, [...(levels.get(c) ?? []), digit]);
  resources.push(codeSystem('vn-bhyt-beneficiary-group', 'BHYT beneficiary group (first two characters of the card code)',
    [...levels.entries()].map(([code, digits]) => ({ code, property: digits.map((d) => ({ code: 'benefit-level', valueCode: d })) })),
    { description: `Source: ${groups.source}. Confidence: ${groups.confidence}.`, property: [{ code: 'benefit-level', description: 'Benefit level digit the group is issued at (3rd character of the card code)', type: 'code' }] }));
  resources.push(valueSetAll('vn-bhyt-beneficiary-group', 'BHYT beneficiary groups', `${CS}/vn-bhyt-beneficiary-group`));
  const race = tables.MA_DANTOC!;
  resources.push(codeSystem('vn-core-race', 'Ethnic groups (MA_DANTOC, GSO list as in VN Core)', tableConcepts(race.values), { description: `Source: ${race.source}. Confidence: ${race.confidence}.` }));
  resources.push(valueSetAll('vn-core-race', 'Ethnic groups', ETHNIC_CS));
  for (const x of EXTERNAL_SYSTEMS) resources.push(codeSystem(x.id, x.title, [], { content: 'not-present', count: undefined }));
  resources.push(codeSystem('vn-claim-csst', 'Vital-sign keys of the CSST<…> convention in XML5 DIEN_BIEN_LS (QĐ 4750), and XML1 CAN_NANG', CSST_CONCEPTS, {
    description: 'QĐ 4750 Bảng 5: vital signs written inside the progress note as CSST<M75_T37_HA120/70_NT18_SP98_HL2>. HA-TT/HA-TTR are the two numbers of HA.',
  }), valueSetAll('vn-claim-csst', 'CSST vital-sign keys', `${CS}/vn-claim-csst`));
  resources.push(...conceptMaps(), ...namingSystems(), ...structureDefinitions().map(withSnapshot));

  const files = new Map<string, string>();
  for (const r of resources) {
    const name = `${r.resourceType as string}-${r.id as string}.json`;
    if (files.has(name)) throw new Error(`duplicate profile ${name}`);
    files.set(name, formatJson(r));
  }
  return files;
}

/** Pretty JSON, but one concept per line so the big code systems stay diffable and compact. */
function formatJson(r: Json): string {
  const clean = JSON.parse(JSON.stringify(r)) as Json; // drops undefined members
  const concepts = clean.concept as Json[] | undefined;
  if (!concepts || concepts.length === 0) return `${JSON.stringify(clean, null, 2)}\n`;
  const head = JSON.stringify({ ...clean, concept: ['@@CONCEPTS@@'] }, null, 2);
  return `${head.replace('"@@CONCEPTS@@"', concepts.map((c) => JSON.stringify(c)).join(',\n    '))}\n`;
}

export function defaultCorporaDir(repoRoot: string): string {
  return process.env.VN_CORPORA ?? resolve(repoRoot, '..', 'shared', 'corpora', 'vn');
}

/** Repository root, whether running from `scripts/` or the built `dist/scripts/`. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

if (require.main === module) {
  const root = repoRoot();
  const out = join(root, 'profiles');
  const files = buildProfiles(defaultCorporaDir(root));
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(out)) if (f.endsWith('.json') && !files.has(f)) rmSync(join(out, f));
  for (const [name, text] of files) writeFileSync(join(out, name), text);
  process.stdout.write(`wrote ${files.size} resources to profiles/\n`);
}
