import type { Account, ChargeItem, CodeableConcept, Reference } from 'fhir/r4';
import { issue } from '../../fhir/outcome';
import { PROVIDER_CODE_SYSTEM } from './config';
import { compact, MapContext, rep, reps, val, where, type Seg } from './context';
import { concept } from './datatypes';
import { accountStatus } from './map-patient-group';
import { practitioner } from './references';
import './segments/ft1';

// BAR/DFT (viện phí: patient accounting): PID-18 → Account, FT1 → ChargeItem, per the IG's
// BAR_P01 / DFT_P03 message maps. Diagnoses, procedures and insurance follow their own segment maps.

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** The patient account (số hồ sơ thanh toán): PID-18, else the visit number. */
export function mapAccount(ctx: MapContext, patient: Reference): Reference | undefined {
  const pid = ctx.find('PID');
  const pv1 = ctx.find('PV1');
  const number = val(pid, 18) || val(pv1, 19);
  if (!number) {
    ctx.issues.push(issue('warning', 'required', 'PID-18 (patient account number) and PV1-19 are empty: no Account made', pid ? where(pid, 18) : 'PID-18'));
    return undefined;
  }
  const start = ctx.dateTime(val(pv1, 44), pv1 ? where(pv1, 44) : 'PV1-44');
  const end = ctx.dateTime(val(pv1, 45), pv1 ? where(pv1, 45) : 'PV1-45');
  // P02 purges and P06 ends the account; every other event keeps it open.
  const account = compact<Account & { id: string }>({
    resourceType: 'Account',
    // The same key as the guarantor's Account (GT1), so both land on one resource.
    id: ctx.id('Account', val(pid, 18) ? `account:${number}` : `visit:${number}`),
    identifier: [{ type: { coding: [{ system: V2_0203, code: val(pid, 18) ? 'AN' : 'VN' }] }, value: number, assigner: { identifier: { system: PROVIDER_CODE_SYSTEM, value: ctx.facility } } }],
    status: ctx.msg.trigger === 'P06' || ctx.msg.trigger === 'P02' ? 'inactive' : accountStatus(ctx) ?? 'active',
    subject: [patient],
    servicePeriod: start || end ? compact({ start, end }) : undefined,
  });
  return ctx.put(account);
}

function amount(ft1: Seg, field: number): { value: number; currency?: string } | undefined {
  const v = val(ft1, field, 1, 1);
  if (!v || !Number.isFinite(Number(v))) return undefined;
  const currency = val(ft1, field, 1, 2) || val(ft1, field, 2);
  return compact({ value: Number(v), currency: /^[A-Z]{3}$/.test(currency) ? currency : undefined });
}

/** FT1 (một dòng phí: one financial transaction) → ChargeItem. */
export function mapCharges(ctx: MapContext, patient: Reference, encounter: Reference | undefined, account: Reference | undefined): void {
  for (const ft1 of ctx.all('FT1')) {
    const code = concept(rep(ft1, 7)) ?? concept(rep(ft1, 25));
    if (!code) {
      ctx.issues.push(issue('warning', 'required', 'FT1-7 (transaction code) is empty: no ChargeItem made', where(ft1, 7)));
      continue;
    }
    const txId = val(ft1, 2);
    const quantity = Number(val(ft1, 10));
    const price = amount(ft1, 11);
    const performer = practitioner(ctx, rep(ft1, 20));
    const orderer = practitioner(ctx, rep(ft1, 21));
    const enterer = practitioner(ctx, rep(ft1, 24));
    // CD (credit) and PY (payment) reverse a charge; the IG has no credit state, so they stay billable with a note.
    const type = val(ft1, 6);
    // FT1-13 department (khoa tính phí) as the cost center, by its code; FT1-29 the drug's code (NDC) as the product.
    const dept = concept(rep(ft1, 13));
    const deptCode = dept?.coding?.[0]?.code;
    const charge = compact<ChargeItem & { id: string }>({
      resourceType: 'ChargeItem',
      id: ctx.id('ChargeItem', txId || `${ctx.msg.controlId}#${val(ft1, 1) || ft1.occ}`),
      identifier: txId ? [{ value: txId }] : undefined,
      status: 'billable',
      code,
      subject: patient,
      context: encounter,
      occurrenceDateTime: ctx.dateTime(val(ft1, 4), where(ft1, 4)),
      performer: performer ? [{ actor: performer }] : undefined,
      enterer: enterer ?? orderer,
      enteredDate: ctx.dateTime(val(ft1, 5), where(ft1, 5)),
      quantity: Number.isFinite(quantity) && val(ft1, 10) !== '' ? { value: quantity } : undefined,
      priceOverride: price?.currency ? { value: price.value, currency: price.currency } : undefined,
      reason: reps(ft1, 19).map(concept).filter((x): x is CodeableConcept => !!x),
      account: account ? [account] : undefined,
      costCenter: dept ? compact({ identifier: deptCode ? { value: deptCode } : undefined, display: dept.text ?? dept.coding?.[0]?.display }) : undefined,
      productCodeableConcept: concept(rep(ft1, 29)),
      note: type && type !== 'CG' ? [{ text: `FT1-6 transaction type ${type}` }] : undefined,
    });
    ctx.put(charge);
  }
}
