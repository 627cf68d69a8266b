import type { FhirOperation } from './operation';
import { everythingOperation } from './everything';
import { matchOperation } from './match';
import { summaryOperation } from './summary';
import { validateOperation } from './validate';

/** Every operation the gateway implements; the router and the CapabilityStatement read this list. */
export const OPERATIONS: FhirOperation[] = [validateOperation, everythingOperation, summaryOperation, matchOperation];

export function findOperation(code: string, level: 'system' | 'type' | 'instance'): FhirOperation | undefined {
  return OPERATIONS.find((o) => o.definition.code === code && o.definition[level]);
}
