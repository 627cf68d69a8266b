import type { FhirOperation } from './operation';
import { convertDataOperation } from './convert-data';
import { coverageLookupOperation } from './coverage-lookup';
import { everythingOperation } from './everything';
import { matchOperation } from './match';
import { summaryOperation } from './summary';
import { validateOperation } from './validate';

/** Every operation the gateway implements; the router and the CapabilityStatement read this list. */
export const OPERATIONS: FhirOperation[] = [validateOperation, everythingOperation, summaryOperation, matchOperation, coverageLookupOperation, convertDataOperation];

export function findOperation(code: string, level: 'system' | 'type' | 'instance', type?: string): FhirOperation | undefined {
  const on = (o: FhirOperation) => !type || (o.definition.resource as string[] | undefined)?.some((r) => r === 'Resource' || r === type);
  return OPERATIONS.find((o) => o.definition.code === code && o.definition[level] && on(o));
}
