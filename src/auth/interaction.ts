import type { Permission } from './scopes';

/**
 * Pure: what an HTTP request under /fhir or /ingest is, in FHIR terms, from its method and
 * path alone: the interaction, the type and id it names, the scope letter it needs up front
 * (writes are checked again, per resource, on the write road), and whether it is public.
 */
export interface Interaction {
  interaction: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  type?: string;
  id?: string;
  /** The letter the token needs on `type` before anything runs. */
  needs?: Permission;
  public?: boolean;
  /** Not audited: no patient data (metadata), or the audit trail itself. */
  unaudited?: boolean;
  /** An intake or message-log request. */
  ingest?: boolean;
}

export function classify(method: string, path: string): Interaction | undefined {
  const segs = path.split('/').filter(Boolean);
  if (segs[0] === 'ingest') {
    if (segs[1] === 'messages') return { interaction: segs[3] === 'replay' ? 'import' : 'read', action: segs[3] === 'replay' ? 'C' : 'R', ingest: true };
    return { interaction: 'import', action: 'C', ingest: true };
  }
  if (segs[0] !== 'fhir') return undefined;
  const [, type, id, third, fourth] = segs;
  const read = method === 'GET' || method === 'HEAD';
  if (!type) return read ? { interaction: 'search-system', action: 'E' } : { interaction: method === 'POST' ? 'transaction' : 'unknown', action: 'E' };
  if (type === 'metadata') return { interaction: 'capabilities', action: 'R', public: read, unaudited: true };
  if (type === '_history') return { interaction: 'history-system', action: 'R' };
  if (type.startsWith('$')) return { interaction: 'operation', action: 'E' };
  const audit = type === 'AuditEvent' ? { unaudited: true } : {};
  if (!id) {
    if (read) return { interaction: 'search-type', action: 'E', type, needs: 's', ...audit };
    if (method === 'POST') return { interaction: 'create', action: 'C', type, needs: 'c', ...audit };
    if (method === 'PUT') return { interaction: 'update', action: 'U', type, ...audit };
    if (method === 'DELETE') return { interaction: 'delete', action: 'D', type, needs: 'd', ...audit };
    return { interaction: 'unknown', action: 'E', type, ...audit };
  }
  if (id === '_search') return { interaction: 'search-type', action: 'E', type, needs: 's', ...audit };
  if (id === '_history') return { interaction: 'history-type', action: 'R', type, needs: 's', ...audit };
  // A type-level operation finds stored data by what it is given ($summary?identifier=, $match,
  // $lookup): it needs the search right on its type. $validate reads nothing stored.
  if (id.startsWith('$')) return { interaction: 'operation', action: 'E', type, ...(id === '$validate' ? {} : { needs: 's' as const }), ...audit };
  if (third === '_history') return { interaction: fourth ? 'vread' : 'history-instance', action: 'R', type, id, needs: 'r', ...audit };
  if (third?.startsWith('$')) return { interaction: 'operation', action: 'E', type, id, needs: 'r', ...audit };
  if (read) return { interaction: 'read', action: 'R', type, id, needs: 'r', ...audit };
  if (method === 'PUT') return { interaction: 'update', action: 'U', type, id, ...audit };
  if (method === 'PATCH') return { interaction: 'patch', action: 'U', type, id, needs: 'u', ...audit };
  if (method === 'DELETE') return { interaction: 'delete', action: 'D', type, id, needs: 'd', ...audit };
  return { interaction: 'unknown', action: 'E', type, id, ...audit };
}

/** Patients a request names in its URL: `Patient/x…`, `?patient=`, `?subject=Patient/…`. */
export function patientsInUrl(i: Interaction, query: string): string[] {
  const out: string[] = [];
  if (i.type === 'Patient' && i.id) out.push(`Patient/${i.id}`);
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).split(':')[0];
    if (key !== 'patient' && key !== 'subject' && key !== 'beneficiary') continue;
    let v: string;
    try {
      v = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      continue;
    }
    for (const one of v.split(',')) {
      if (one.startsWith('Patient/')) out.push(one);
      else if (key === 'patient' && /^[A-Za-z0-9\-.]{1,64}$/.test(one)) out.push(`Patient/${one}`);
    }
  }
  return out;
}
