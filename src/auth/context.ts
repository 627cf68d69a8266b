import { AsyncLocalStorage } from 'node:async_hooks';
import type { ScopeEntry } from './scopes';

/**
 * Who is asking, carried with the request through every layer (router, service, intake,
 * MLLP handler) without threading a parameter through each: the guard and the MLLP listener
 * enter it, the rules read it. Outside any request (start-up recovery, the audit writer)
 * there is no principal and the rules let the gateway's own work through.
 */
export interface Principal {
  clientId: string;
  facility: string;
  admin: boolean;
  grant: ScopeEntry[];
  scope: string;
  ownFacilityOnly: boolean;
}

/** One request's security state: its principal, and the patients it touched (for the audit entity list). */
export interface RequestSecurity {
  principal: Principal;
  patients: Set<string>;
}

const storage = new AsyncLocalStorage<RequestSecurity>();

export function runAs<T>(principal: Principal, fn: () => T, state: RequestSecurity = { principal, patients: new Set() }): T {
  return storage.run(state, fn);
}

export function current(): RequestSecurity | undefined {
  return storage.getStore();
}

/** Work the gateway does for itself, even when started from inside a request (a timer, a flush). */
export function asGateway<T>(fn: () => T): T {
  return storage.exit(fn);
}
