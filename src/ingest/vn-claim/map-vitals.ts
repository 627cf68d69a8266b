import type { Observation, ObservationComponent, Quantity } from 'fhir/r4';
import { translate } from '../../fhir/conceptmap';
import { CM, MapContext, compact, decimal } from './context';
import { claimDateTime } from './dates';
import type { EpisodeRefs } from './map-services';
import type { Row } from './parse';

/** The R4 vital-signs profile needs a day-precise effective time; without one the profile is not claimed. */
const VITALS_PROFILE = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const VITAL_SIGNS = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] };

/** A value in the UCUM unit the CSST key is written in (per the ConceptMap), or undefined. */
function measured(key: string, value: string | undefined): Quantity | undefined {
  const n = decimal(value?.replace(',', '.'));
  const unit = translate(`${CM}/vn-csst-to-ucum`, key);
  return n === undefined || !unit ? undefined : { value: n, unit: unit.display ?? unit.code, system: unit.system, code: unit.code };
}

const loinc = (key: string) => translate(`${CM}/vn-csst-to-loinc`, key);

/**
 * CSST<M80_T37_HA130/80_NT18_SP98> inside XML5 DIEN_BIEN_LS (vital signs, QĐ 4750) → one vital-sign
 * Observation per key; blood pressure as the panel with systolic and diastolic components.
 * Keys without a LOINC target (HL, nursing level) stay in the note only.
 */
export function mapVitalSigns(ctx: MapContext, rows: Row[], refs: EpisodeRefs): void {
  rows.forEach((r, i) => {
    const csst = /CSST<([^>]*)>/.exec(r.DIEN_BIEN_LS ?? '')?.[1];
    if (!csst) return;
    const when = claimDateTime(r.THOI_DIEM_DBLS ?? '');
    for (const part of csst.split('_')) {
      const m = /^([A-Z]+)\s*(.+)$/.exec(part.trim());
      if (!m) continue;
      const [, key, raw] = m as unknown as [string, string, string];
      const code = loinc(key);
      if (!code) continue;
      let value: Quantity | undefined;
      let component: ObservationComponent[] = [];
      if (key === 'HA') {
        const [sys, dia] = raw.split('/');
        component = ([['HA-TT', sys], ['HA-TTR', dia]] as const)
          .map(([k, v]) => ({ code: loinc(k), valueQuantity: measured(k, v) }))
          .filter((c) => c.code && c.valueQuantity)
          .map((c) => ({ code: { coding: [c.code!] }, valueQuantity: c.valueQuantity }));
        if (!component.length) continue;
      } else {
        value = measured(key, raw);
        if (!value) continue;
      }
      ctx.add(compact({
        resourceType: 'Observation' as const,
        id: ctx.id('Observation', 'XML5', r.STT || String(i + 1), key),
        status: 'final' as const,
        category: [VITAL_SIGNS],
        code: { coding: [code], text: key },
        subject: refs.patient,
        encounter: refs.encounter,
        effectiveDateTime: when,
        valueQuantity: value,
        component,
      }) as Observation, when && when.length >= 10 ? VITALS_PROFILE : undefined);
    }
  });
}

/** XML1 CAN_NANG (weight, kg) → body-weight Observation at admission. */
export function mapWeight(ctx: MapContext, x1: Row, refs: EpisodeRefs): void {
  const value = measured('CN', x1.CAN_NANG);
  const code = loinc('CN');
  if (!value || !code || value.value === 0) return;
  const when = claimDateTime(x1.NGAY_VAO ?? '');
  ctx.add(compact({
    resourceType: 'Observation' as const,
    id: ctx.id('Observation', 'XML1', 'CAN_NANG'),
    status: 'final' as const,
    category: [VITAL_SIGNS],
    code: { coding: [code], text: 'CAN_NANG' },
    subject: refs.patient,
    encounter: refs.encounter,
    effectiveDateTime: when,
    valueQuantity: value,
  }) as Observation, when && when.length >= 10 ? VITALS_PROFILE : undefined);
}
