import { MllpClient } from '../../src/listeners/mllp-client';

/**
 * What the chaos scenarios send and how they count what survived: generated HL7 v2 and REST
 * transactions with unique identifiers, so every acknowledged item can be looked up afterwards.
 */
/**
 * Settings every chaos gateway runs with: recovery passes every second for messages left
 * `received` two seconds (production: 30 s and 60 s), so the scenarios can wait for what
 * recovery does; statements time out after 3 s (production: 30 s), so requests made while
 * PostgreSQL is paused are answered (503) within the scenarios' hang limit. ACKs come after the
 * store unless a scenario says otherwise: "acknowledged" then means "stored", which is what the
 * outage, poison and kill -9 scenarios count; acknowledgement on receipt has its own scenario
 * (ack-on-receipt), counted once the backlog drains.
 */
export const CHAOS_ENV = { RECOVERY_INTERVAL_SECONDS: '1', RECOVERY_GRACE_SECONDS: '2', DB_STATEMENT_TIMEOUT_MS: '3000', MLLP_ACK: 'stored' };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const msa = (ack: Buffer | string) => /(^|\r)MSA\|([A-Z]{2})/.exec(ack.toString())?.[2] ?? '??';

/** An ADT^A01 that becomes one Patient (PID-3 `tag-i`) and one Encounter (PV1-19 `V-tag-i`) in one transaction. */
export function admission(tag: string, i: number, pid = `${tag}-${i}`): string {
  return [
    `MSH|^~\\&|HIS|BV_CHAOS|GW|SYT|20261123100000||ADT^A01^ADT_A01|${tag}-${i}|P|2.5.1||||||UNICODE UTF-8`,
    `EVN|A01|20261123100000`,
    `PID|1||${pid}^^^BV_CHAOS^MR||Nguyễn^Văn ${i}||19800115|M`,
    `PV1|1|I|NOI^P1||||||||||||||||V-${pid}`,
  ].join('\r') + '\r';
}

/** A transaction: a Patient and an Observation about it, through `urn:uuid:` — both or neither. */
export function patientWithObservation(tag: string, i: number): unknown {
  const p = `urn:uuid:${crypto.randomUUID()}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: p, resource: { resourceType: 'Patient', identifier: [{ system: 'urn:chaos', value: `${tag}-${i}` }] }, request: { method: 'POST', url: 'Patient' } },
      {
        resource: { resourceType: 'Observation', status: 'final', identifier: [{ system: 'urn:chaos', value: `O-${tag}-${i}` }], code: { text: 'chaos' }, subject: { reference: p } },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
}

/** How many current resources of a type carry each identifier value (read over REST, every page). */
export async function identifierCounts(fhir: string, type: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next: string | undefined = `${fhir}/${type}?_count=1000&_elements=identifier`;
  while (next) {
    const page = (await (await fetch(next, { headers: { accept: 'application/fhir+json' } })).json()) as any;
    for (const e of page.entry ?? []) {
      if (e.search?.mode === 'outcome' || !e.resource?.identifier) continue;
      for (const id of e.resource.identifier) counts.set(id.value, (counts.get(id.value) ?? 0) + 1);
    }
    next = page.link?.find((l: any) => l.relation === 'next')?.url;
  }
  return counts;
}

/** Messages of the intake log by status (over the gateway's own log endpoint). */
export async function messageCount(base: string, status: string): Promise<number> {
  const r = await fetch(`${base}/ingest/messages?status=${status}&_count=0`);
  return ((await r.json()) as any).total;
}

/** Polls until `check` is true or the time is up; returns the last value of `check`. */
export async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await check().catch(() => false);
    if (ok || Date.now() > end) return ok;
    await sleep(500);
  }
}

/**
 * Sends messages over one MLLP connection, `window` in flight, until done or the connection
 * breaks; returns the ACK code of every message that got one (by index).
 */
export async function mllpStream(port: number, messages: string[], window: number, onAck?: (i: number, code: string) => void): Promise<Map<number, string>> {
  const acks = new Map<number, string>();
  const c = await MllpClient.connect(port);
  let next = 0;
  const lane = async () => {
    while (next < messages.length && !c.closed) {
      const i = next++;
      const ack = await c.send(messages[i]!).catch(() => undefined);
      if (!ack) return;
      acks.set(i, msa(ack));
      onAck?.(i, msa(ack));
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  await c.close();
  return acks;
}

/** Runs `job(i)` for i = 0..n-1, `width` at a time; a job that throws simply ends its lane. */
export async function pool(n: number, width: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await job(next++).catch(() => undefined);
  }));
}

/** One line per scenario with its counts, for the README to quote. */
export function summary(scenario: string, counts: Record<string, number | string>): void {
  process.stdout.write(`CHAOS ${scenario}: ${Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}
