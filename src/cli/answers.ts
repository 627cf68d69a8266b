/**
 * What the gateway answered for one file, read as a person would: accepted or not, and the
 * first thing that went wrong (an OperationOutcome's first error, a transaction or batch
 * entry's, or an HL7 ACK's MSA/ERR text). Pure.
 */
export interface FileVerdict {
  ok: boolean;
  /** Why not, in one line. */
  reason?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

interface OutcomeIssue { severity?: string; code?: string; diagnostics?: string; details?: { text?: string }; expression?: string[] }

function firstError(outcome: unknown): string | undefined {
  if (!isObj(outcome) || !Array.isArray(outcome.issue)) return undefined;
  const issues = outcome.issue as OutcomeIssue[];
  const i = issues.find((x) => x.severity === 'error' || x.severity === 'fatal') ?? issues[0];
  if (!i) return undefined;
  const text = i.diagnostics ?? i.details?.text ?? i.code ?? 'no details';
  return i.expression?.length ? `${text} (at ${i.expression.join(', ')})` : text;
}

/** A transaction/batch response: the first entry whose status is 4xx/5xx. */
function failedEntry(bundle: Obj): { reason: string; failed: number; total: number } | undefined {
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as Obj[]) : [];
  const bad = entries.map((e, i) => ({ i, r: isObj(e.response) ? e.response : {} })).filter(({ r }) => Number.parseInt(String(r.status ?? ''), 10) >= 400);
  if (bad.length === 0) return undefined;
  const { i, r } = bad[0]!;
  return { reason: `entry ${i}: ${String(r.status)} ${firstError(r.outcome) ?? ''}`.trim(), failed: bad.length, total: entries.length };
}

const HL7_FAILED = new Set(['AE', 'AR', 'CE', 'CR']);

function ackVerdict(ack: string): FileVerdict | undefined {
  const segs = ack.split(/\r\n|\r|\n/).filter(Boolean);
  const msh = segs.find((s) => s.startsWith('MSH'));
  const [field, comp, rep, esc, sub] = [msh?.[3] ?? '|', msh?.[4] ?? '^', msh?.[5] ?? '~', msh?.[6] ?? '\\', msh?.[7] ?? '&'];
  const chars: Record<string, string> = { F: field, S: comp, R: rep, E: esc, T: sub };
  const text = (v: string | undefined) => v?.split(esc).map((part, i) => (i % 2 === 1 ? (chars[part] ?? '') : part)).join('');
  const msa = segs.find((s) => s.startsWith(`MSA${field}`))?.split(field);
  if (!msa) return undefined;
  if (!HL7_FAILED.has(msa[1] ?? '')) return { ok: true };
  const err = segs.find((s) => s.startsWith(`ERR${field}`))?.split(field);
  // ERR-8 is the user message (2.5+), ERR-3 the code^text, ERR-2 where; MSA-3 the (short) text of the ACK.
  const errText = text(err?.[8]) || text(err?.[3]?.split(comp).slice(0, 2).join(' '));
  const where = err?.[2] ? ` (at ${err[2].split(comp).filter(Boolean).join('-')})` : '';
  const said = [text(msa[3]), errText && errText !== text(msa[3]) ? `${errText}${where}` : ''].filter(Boolean).join(' — ');
  return { ok: false, reason: `ACK ${msa[1]}: ${said || 'no text'}` };
}

/**
 * The outcome of one file. A duplicate is answered with the first message's status and ACK, so
 * it counts by that (a duplicate of a refused file is a failure, not an acceptance).
 */
export function fileVerdict(status: number, headers: { get(name: string): string | null }, body: string): FileVerdict {
  const ingest = headers.get('x-ingest-status');
  const ack = /^\s*\x0b?MSH/.test(body) ? ackVerdict(body) : undefined;
  if (ack && !ack.ok) return ack;
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  if (status >= 400) return { ok: false, reason: `HTTP ${status}: ${firstError(json) ?? (body.slice(0, 200) || 'no body')}` };
  if (isObj(json) && json.resourceType === 'Bundle') {
    const bad = failedEntry(json);
    if (bad) return { ok: false, reason: `${bad.failed} of ${bad.total} entries not stored; ${bad.reason}` };
  }
  if (ingest && ingest !== 'accepted' && ingest !== 'duplicate') return { ok: false, reason: `${ingest}${firstError(json) ? `: ${firstError(json)}` : ''}` };
  return { ok: true };
}

/** The hint for a transaction whose conditional reference found nothing: its reference data was not loaded yet. */
export function orderHint(reason: string): string | undefined {
  if (!/conditional reference .* matched 0 resources/.test(reason)) return undefined;
  return 'the resource it points to is not stored yet: load the batch bundles of shared reference data (Organization, Location, Practitioner) first — `fhir-gateway ingest <folder>` sends batch bundles before transaction bundles';
}
