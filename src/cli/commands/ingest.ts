import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { MultiBar, Presets } from 'cli-progress';
import type { CommandSpec, ParsedArgs } from '../args';
import { sniff } from '../../ingest/sniff';
import { fileVerdict, orderHint } from '../answers';
import { readHead } from '../head';
import { GatewayToken } from '../token';

/**
 * Which intake endpoint a file goes to, by its extension: claim XML, HL7 v2, DICOM, or a
 * FHIR Bundle (posted to the FHIR base). One entry per kind of file.
 */
const ROUTES: Record<string, { path: string; contentType: string }> = {
  '.xml': { path: '/ingest/vn-claim', contentType: 'application/xml' },
  '.hl7': { path: '/ingest/hl7v2', contentType: 'x-application/hl7-v2+er7' },
  '.er7': { path: '/ingest/hl7v2', contentType: 'x-application/hl7-v2+er7' },
  '.dcm': { path: '/ingest/dicom', contentType: 'application/dicom' },
  '.json': { path: '/fhir', contentType: 'application/fhir+json' },
};

export const spec: CommandSpec = {
  summary: 'send source files (or every file in a folder) to a running gateway; exit 1 if any was not accepted',
  positional: '<file|folder>',
  options: {
    url: { type: 'string', value: 'gateway', required: true, help: 'the gateway: http://host:8080, http://host:8080/fhir or host:8080' },
    facility: { type: 'string', value: 'MA_CSKCB', help: 'facility code sent as X-Facility-Code' },
    'client-id': { type: 'string', value: 'id', help: 'a gateway running AUTH=smart: the registered client id (or FHIR_GATEWAY_CLIENT_ID)' },
    key: { type: 'string', value: 'file', help: "the client's private key, PEM or JWK (or FHIR_GATEWAY_KEY_FILE)" },
    kid: { type: 'string', help: "the registered key's kid, when the key file does not carry it (or FHIR_GATEWAY_KID)" },
    scope: { type: 'string', help: 'scopes asked for (default system/*.cruds: the gateway grants what the client is registered for)' },
  },
  notes: [
    `Files by extension: ${Object.entries(ROUTES).map(([e, r]) => `${e} → ${r.path}`).join(', ')}.`,
    'In a folder, FHIR batch bundles (shared reference data: Organization, Location, Practitioner) are sent before',
    'transaction bundles, whose conditional references point at them; other files follow in name order.',
    'A file counts as accepted only when the gateway stored it: 4xx/5xx, a refused entry and an HL7 ACK AE/AR are failures.',
    'With a client id and key the files are sent with an access token (SMART Backend Services), fetched again before it expires.',
  ],
};

/**
 * The gateway's root from what a user is likely to type: the root itself, the FHIR base
 * (`…/fhir`), or `host:port` without a scheme. `undefined` when it is no http(s) URL at all.
 */
export function gatewayRoot(input: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const path = u.pathname.replace(/\/+$/, '').replace(/\/fhir$/, '');
  return `${u.protocol}//${u.host}${path}`;
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => filesUnder(join(path, e.name)));
}

/** A FHIR JSON file's Bundle.type, from its head (a Synthea bundle is megabytes). */
const bundleType = (file: string) => (extname(file).toLowerCase() === '.json' ? sniff(readHead(file)).bundleType : undefined);

/** Batch bundles (reference data) first, then the rest in name order. */
export function loadOrder(files: string[]): string[] {
  const batch = files.filter((f) => bundleType(f) === 'batch');
  return [...batch, ...files.filter((f) => !batch.includes(f))];
}

/** Why a request could not be made at all (refused, unknown host, …), from fetch's cause chain. */
function networkCause(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  return c?.message ?? c?.code ?? (e as Error).message;
}

/** Output: a cli-progress bar with rate and ETA on a terminal, plain lines otherwise. */
function progress(total: number) {
  const started = Date.now();
  let lastLine = started;
  if (!process.stderr.isTTY) {
    return {
      log: (line: string) => process.stderr.write(`${line}\n`),
      update(done: number, failed: number) {
        if (Date.now() - lastLine < 5000 && done < total) return;
        lastLine = Date.now();
        process.stderr.write(`${done}/${total} files sent, ${failed} not accepted, ${(done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1)} files/s\n`);
      },
      stop() {},
    };
  }
  const multi = new MultiBar({ stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 50, format: '[{bar}] {value}/{total} files | {failed} not accepted | {rate} files/s | ETA {eta_formatted}' }, Presets.shades_classic);
  const bar = multi.create(total, 0, { failed: 0, rate: '0.0' });
  let stopped = false;
  return {
    log: (line: string) => multi.log(`${line}\n`),
    update: (done: number, failed: number) => bar.update(done, { failed, rate: (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1) }),
    stop() {
      if (!stopped) multi.stop();
      stopped = true;
    },
  };
}

export async function run({ positional: target, values }: ParsedArgs): Promise<number> {
  const given = values.url as string;
  const facility = values.facility as string | undefined;
  const root = gatewayRoot(given);
  if (!root) {
    process.stderr.write(`--url '${given}' is not an http(s) address; give the gateway as http://host:8080, http://host:8080/fhir or host:8080\n`);
    return 2;
  }
  if (root !== given) process.stderr.write(`sending to ${root} (from --url ${given})\n`);
  const clientId = (values['client-id'] as string | undefined) ?? process.env.FHIR_GATEWAY_CLIENT_ID;
  const keyFile = (values.key as string | undefined) ?? process.env.FHIR_GATEWAY_KEY_FILE;
  const kid = (values.kid as string | undefined) ?? process.env.FHIR_GATEWAY_KID;
  if (!clientId !== !keyFile) {
    process.stderr.write('a token needs both --client-id and --key (or FHIR_GATEWAY_CLIENT_ID and FHIR_GATEWAY_KEY_FILE)\n');
    return 2;
  }
  let token: GatewayToken | undefined;
  try {
    if (clientId && keyFile) {
      token = new GatewayToken(root, { clientId, keyFile, ...(kid ? { kid } : {}), scope: (values.scope as string | undefined) ?? 'system/*.cruds' });
      await token.authorization();
    }
  } catch (e) {
    process.stderr.write(`no access token: ${e instanceof TypeError ? networkCause(e) : (e as Error).message}\n`);
    return 1;
  }
  let files: string[];
  try {
    files = loadOrder(filesUnder(target).filter((f) => ROUTES[extname(f).toLowerCase()]));
  } catch (e) {
    process.stderr.write(`cannot read ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 2;
  }
  if (files.length === 0) {
    process.stderr.write(`no files to send under ${target} (known kinds: ${Object.keys(ROUTES).join(' ')})\n`);
    return 2;
  }
  let failed = 0;
  let sent = 0;
  const out = progress(files.length);
  try {
    for (const file of files) {
      const route = ROUTES[extname(file).toLowerCase()]!;
      const url = root + route.path;
      let res: Response;
      let body: string;
      try {
        const send = async () =>
          fetch(url, {
            method: 'POST',
            headers: { 'content-type': route.contentType, ...(facility ? { 'x-facility-code': facility } : {}), ...(token ? { authorization: await token.authorization() } : {}) },
            body: readFileSync(file),
          });
        res = await send();
        // Refused mid-run (the token ended early, or the gateway's keys rotated): one more try with a new token.
        if (res.status === 401 && token) {
          await res.arrayBuffer();
          token.invalidate();
          res = await send();
        }
        body = await res.text();
        if (res.status === 401) {
          out.stop();
          process.stderr.write(`${url}: 401, the gateway needs an access token${token ? ' and refused the one this client got' : ': give --client-id and --key (a client registered with `fhir-gateway clients add`)'}\n${sent} of ${files.length} file(s) sent before that, ${failed} not accepted\n`);
          return 1;
        }
      } catch (e) {
        if (token && !(e instanceof TypeError)) {
          out.stop();
          process.stderr.write(`no access token: ${(e as Error).message}\n${sent} of ${files.length} file(s) sent before that, ${failed} not accepted\n`);
          return 1;
        }
        // Nothing else will get through either: stop here and say where and why.
        out.stop();
        process.stderr.write(`cannot reach the gateway at ${url}: ${networkCause(e)}\n${sent} of ${files.length} file(s) sent before that, ${failed} not accepted\n`);
        return 1;
      }
      sent++;
      const v = fileVerdict(res.status, res.headers, body);
      if (!v.ok) {
        failed++;
        const hint = orderHint(v.reason ?? '');
        out.log(`${file}: ${v.reason}${hint ? `\n  ${hint}` : ''}`);
      }
      out.update(sent, failed);
    }
  } finally {
    out.stop();
  }
  process.stderr.write(`${files.length} file(s) sent, ${files.length - failed} accepted, ${failed} not accepted\n`);
  return failed ? 1 : 0;
}
