import { connect } from 'node:net';
import { frame, MllpFramer } from '../../src/listeners/mllp-framer';

/**
 * How each fuzzed format reaches the gateway: the intake routes and the REST API over HTTP,
 * HL7 v2 also over MLLP. An answer is its HTTP status (and HL7 ACK code), `hang` when none
 * came within the time limit. Shared by the fuzzer and the regression test that replays its finds.
 */
export interface Answer {
  status: number | 'hang' | 'closed';
  ack?: string;
}

export const HANG_MS = 10_000;

const ROUTES: Record<string, { path: string; type: string }> = {
  'hl7v2-http': { path: '/ingest/hl7v2', type: 'x-application/hl7-v2+er7' },
  'vn-claim': { path: '/ingest/vn-claim', type: 'application/xml' },
  dicom: { path: '/ingest/dicom', type: 'application/dicom' },
  'dicom-json': { path: '/ingest/dicom', type: 'application/dicom+json' },
  patient: { path: '/fhir/Patient', type: 'application/fhir+json' },
  bundle: { path: '/fhir', type: 'application/fhir+json' },
};

const msa = (text: string) => /(^|\r)MSA\|([A-Z]{2})/.exec(text)?.[2];

/** One MLLP connection per message: a mutant may carry framing bytes that would desynchronise a shared one. */
function overMllp(port: number, body: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const framer = new MllpFramer(64 * 1024 * 1024);
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(frame(body)));
    const done = (a: Answer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => done({ status: 'hang' }), HANG_MS);
    socket.on('data', (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) if (ev.kind === 'frame') return done({ status: 200, ack: msa(ev.data.toString('latin1')) ?? '??' });
    });
    socket.on('error', () => done({ status: 'closed' }));
    socket.on('close', () => done({ status: 'closed' }));
  });
}

export async function send(format: string, body: Buffer, gw: { url: string; mllpPort?: number }): Promise<Answer> {
  if (format === 'hl7v2-mllp') return overMllp(gw.mllpPort!, body);
  const route = ROUTES[format];
  if (!route) throw new Error(`unknown format ${format}`);
  try {
    const r = await fetch(gw.url + route.path, { method: 'POST', headers: { 'content-type': route.type, accept: 'application/fhir+json' }, body, signal: AbortSignal.timeout(HANG_MS) });
    const text = await r.text();
    return { status: r.status, ...(format === 'hl7v2-http' && r.status === 200 ? { ack: msa(text) ?? '??' } : {}) };
  } catch (e) {
    return { status: (e as Error).name === 'TimeoutError' ? 'hang' : 'closed' };
  }
}

/** A server fault: 5xx, no answer in time, or an HTTP connection dropped (MLLP may close on broken framing). */
export const isFault = (format: string, a: Answer) =>
  a.status === 'hang' || (typeof a.status === 'number' && a.status >= 500) || (a.status === 'closed' && format !== 'hl7v2-mllp');

/** What a format's inputs refer to and must exist first: Synthea's hospital and practitioner bundles for its records. */
export async function prepare(format: string, gw: { url: string }, infoBundles: () => string[]): Promise<void> {
  if (format !== 'bundle') return;
  for (const b of infoBundles()) {
    const r = await fetch(`${gw.url}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: b });
    if (!r.ok) throw new Error(`the Synthea reference bundle was refused: ${r.status}`);
  }
}
