import type { Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import type { MapContext } from './context';
import { orderGroups } from './groups';
import { mapAppointment } from './map-appointment';
import { mapAccount, mapCharges } from './map-billing';
import { mapDocument } from './map-document';
import { mapEncounter } from './map-encounter';
import { mapImmunization } from './map-immunization';
import { mapServiceRequest } from './map-order';
import { mapMedicationAdministration, mapMedicationDispense, mapMedicationRequest } from './map-pharmacy';
import { mapReport } from './map-result';
import { blocks } from './segment-groups';

/**
 * Orders, results, pharmacy, immunization, documents, scheduling and billing: what each
 * MSH-9 of these families becomes, after the patient is mapped. The IG's message maps name
 * the resources; the segment mappers say how.
 */
export type MessageMapper = (ctx: MapContext, patient: Reference) => void;

function orders(withResults: boolean): MessageMapper {
  return (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    const groups = orderGroups(ctx);
    if (!groups.length) ctx.issues.push(issue('error', 'required', `${ctx.msg.type}^${ctx.msg.trigger} without ORC or OBR`, 'OBR'));
    for (const g of groups) {
      const order = mapServiceRequest(ctx, g, patient, encounter, withResults);
      if (withResults) mapReport(ctx, g, patient, encounter, order);
    }
  };
}

function pharmacy(kind: 'request' | 'dispense' | 'administration'): MessageMapper {
  return (ctx, patient) => {
    const encounter = mapEncounter(ctx, patient);
    const found = blocks(ctx, ['RXO', 'RXE', 'RXD', 'RXA']);
    if (!found.length) ctx.issues.push(issue('error', 'required', `${ctx.msg.type}^${ctx.msg.trigger} without ORC or pharmacy segment`, 'ORC'));
    for (const b of found) {
      const request = mapMedicationRequest(ctx, b, patient, encounter);
      if (kind === 'dispense') mapMedicationDispense(ctx, b, patient, encounter, request);
      if (kind === 'administration') mapMedicationAdministration(ctx, b, patient, encounter, request);
    }
  };
}

const vaccination: MessageMapper = (ctx, patient) => {
  const encounter = mapEncounter(ctx, patient);
  for (const b of blocks(ctx, ['RXA'])) mapImmunization(ctx, b, patient, encounter);
};

const document: MessageMapper = (ctx, patient) => {
  const encounter = mapEncounter(ctx, patient);
  const basedOn = orderGroups(ctx).flatMap((g) => mapServiceRequest(ctx, g, patient, encounter, false) ?? []);
  mapDocument(ctx, patient, encounter, basedOn);
};

const billing: MessageMapper = (ctx, patient) => {
  const encounter = mapEncounter(ctx, patient);
  const account = mapAccount(ctx, patient);
  mapCharges(ctx, patient, encounter, account);
};

const appointment: MessageMapper = (ctx, patient) => mapAppointment(ctx, patient);

const table: [string[], MessageMapper][] = [
  [['ORU^R01', 'ORU^R30', 'ORU^R32', 'OUL^R22', 'OUL^R23', 'OUL^R24'], orders(true)],
  [['ORM^O01', 'OML^O21', 'OML^O33', 'OML^O35', 'OMG^O19', 'OMI^O23'], orders(false)],
  [['RDE^O11', 'RDE^O25'], pharmacy('request')],
  [['RDS^O13'], pharmacy('dispense')],
  [['RAS^O17'], pharmacy('administration')],
  [['VXU^V04'], vaccination],
  [['T01', 'T02', 'T03', 'T04', 'T05', 'T06', 'T07', 'T08', 'T09', 'T10', 'T11'].map((t) => `MDM^${t}`), document],
  [Array.from({ length: 15 }, (_, i) => `SIU^S${12 + i}`), appointment],
  [['BAR^P01', 'BAR^P02', 'BAR^P05', 'BAR^P06', 'BAR^P12', 'DFT^P03', 'DFT^P11'], billing],
];

export const CLINICAL_MESSAGES: Record<string, MessageMapper> = Object.fromEntries(table.flatMap(([types, m]) => types.map((t) => [t, m])));
