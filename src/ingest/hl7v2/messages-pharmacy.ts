import { issue } from '../../fhir/outcome';
import { mapCharges } from './map-billing';
import { mapEncounter } from './map-encounter';
import { mapPatientGroup } from './map-patient-group';
import { mapMedicationAdministration, mapMedicationDispense, mapMedicationRequest } from './map-pharmacy';
import type { MessageDef } from './messages';
import { blocks } from './segment-groups';
import { mapLooseObservations } from './segments/obx';

// Pharmacy ("đơn thuốc, cấp phát, dùng thuốc"): RDE → MedicationRequest, RDS adds the
// MedicationDispense, RAS the MedicationAdministration, each tied to its request.

const pharmacy = (event: string, structure: string, kind: 'request' | 'dispense' | 'administration'): MessageDef => ({
  event,
  structure,
  igMap: `${structure} to Bundle`,
  map: (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    mapPatientGroup(ctx, patient);
    const found = blocks(ctx, ['RXO', 'RXE', 'RXD', 'RXA']);
    if (!found.length) ctx.issues.push(issue('error', 'required', `${event} without ORC or pharmacy segment`, 'ORC'));
    for (const b of found) {
      const request = mapMedicationRequest(ctx, b, patient, encounter);
      if (kind === 'dispense') mapMedicationDispense(ctx, b, patient, encounter, request);
      if (kind === 'administration') mapMedicationAdministration(ctx, b, patient, encounter, request);
    }
    // OBX here are what the dose was decided on (weight, height, creatinine): Observations of their own.
    mapLooseObservations(ctx, patient, encounter);
    // FT1 in the ORDER group: the dispensing charge ("tiền thuốc"), as in a DFT.
    mapCharges(ctx, patient, encounter, undefined);
  },
});

export const PHARMACY_MESSAGES: MessageDef[] = [
  pharmacy('RDE^O11', 'RDE_O11', 'request'),
  pharmacy('RDE^O25', 'RDE_O25', 'request'),
  pharmacy('RDS^O13', 'RDS_O13', 'dispense'),
  pharmacy('RAS^O17', 'RAS_O17', 'administration'),
];
