import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { loadConfig } from '../../src/config';
import { benchGateway, median, round, scratchDatabase } from './common';

/**
 * npm run bench:auth — in one run:
 *   tokens issued per second (POST /auth/token, a fresh ES384 client assertion each, 16 at a time);
 *   cached GET /fhir/Patient/{id} req/s (autocannon, 50 connections) with a bearer token under
 *   AUTH=smart (guard, rate limit and audit trail on), against the same gateway without AUTH,
 *   in alternating rounds (BENCH_ROUNDS, default 3) so that a change in the machine's load
 *   falls on both alike. The figure judged is the median of the rounds' ratios (each round pairs
 *   two runs a few seconds apart, so a burst of load elsewhere spoils one round, not the result);
 *   the ratio of the two medians is printed beside it.
 * BENCH_STORE=postgres runs both gateways on DATABASE_URL (a scratch database each).
 */
const run = promisify(execFile);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STORE = process.env.BENCH_STORE === 'postgres' ? 'postgres' : 'embedded';

/** autocannon's JSON result; `2xx` answers per second is the rate reported (a refusal is quick, so counting it would flatter). */
async function cannon(url: string, headers: string[] = []): Promise<{ '2xx': number; duration: number; latency: { p99: number }; non2xx: number; errors: number }> {
  const bin = require.resolve('autocannon/autocannon.js');
  const { stdout } = await run(process.execPath, [bin, '-c', '50', '-d', String(DURATION), '-j', ...headers.flatMap((h) => ['-H', h]), url], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout);
}

async function main() {
  const { publicKey, privateKey } = await generateKeyPair('ES384');
  const clientsFile = join(mkdtempSync(join(tmpdir(), 'bench-auth-')), 'clients.json');
  writeFileSync(clientsFile, JSON.stringify([{ clientId: 'bench', facility: '20001', scope: 'system/*.cruds', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'b1', alg: 'ES384' }] } }]));
  const security = { ...loadConfig({}).security, mode: 'smart' as const, clientsFile, rateBurst: 1e9, ratePerSecond: 1e9 };
  const dbs = STORE === 'postgres' ? [await scratchDatabase(process.env.DATABASE_URL!, 'bench_auth'), await scratchDatabase(process.env.DATABASE_URL!, 'bench_auth')] : [];
  const open = await benchGateway(STORE, { mllpPort: -1, ...(dbs[0] ? { databaseUrl: dbs[0].url } : {}) });
  const smart = await benchGateway(STORE, { mllpPort: -1, security, ...(dbs[1] ? { databaseUrl: dbs[1].url } : {}) });
  try {
    const tokenUrl = `${smart.gw.url}/auth/token`;
    const token = async (): Promise<string> => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'b1' }).setIssuer('bench').setSubject('bench').setAudience(tokenUrl).setExpirationTime(now + 120).setJti(randomUUID()).sign(privateKey);
      const r = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/*.cruds', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }).toString(),
      });
      if (r.status !== 200) throw new Error(`token refused: ${await r.text()}`);
      return ((await r.json()) as { access_token: string }).access_token;
    };

    // Tokens per second (the client's signing is included: it is what a caller waits for).
    let issued = 0;
    const until = Date.now() + 5000;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (Date.now() < until) {
        await token();
        issued++;
      }
    }));
    const tokensPerSecond = issued / ((Date.now() - t0) / 1000);

    const bearer = await token();
    const patient = { resourceType: 'Patient', name: [{ family: 'Bench', given: ['Đo'] }], gender: 'female', birthDate: '1980-01-01' };
    const create = async (url: string, headers: Record<string, string>) => {
      const r = await fetch(`${url}/fhir/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: JSON.stringify(patient) });
      return ((await r.json()) as { id: string }).id;
    };
    const openUrl = `${open.gw.url}/fhir/Patient/${await create(open.gw.url, {})}`;
    const smartUrl = `${smart.gw.url}/fhir/Patient/${await create(smart.gw.url, { authorization: `Bearer ${bearer}` })}`;
    const auth = [`authorization=Bearer ${bearer}`];

    await cannon(openUrl); // warm-up, both
    await cannon(smartUrl, auth);
    const base: number[] = [];
    const withAuth: number[] = [];
    const p99: number[] = [];
    let non2xx = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const b = await cannon(openUrl);
      if (b.non2xx || b.errors) throw new Error('non-2xx answers or errors on the open gateway');
      const a = await cannon(smartUrl, auth);
      base.push(b['2xx'] / b.duration);
      withAuth.push(a['2xx'] / a.duration);
      p99.push(a.latency.p99);
      non2xx += a.non2xx;
      console.log(`round ${i + 1}: without AUTH ${round(base[i]!)} req/s, with a bearer token ${round(withAuth[i]!)} req/s (${round(withAuth[i]! / base[i]!, 3)})${a.non2xx ? `, ${a.non2xx} refused` : ''}`);
    }
    await smart.gw.security.audit?.flush();
    const rounds = withAuth.map((a, i) => a / base[i]!);
    const ratio = median(rounds);
    console.log(`tokens issued: ${round(tokensPerSecond)} /s (16 concurrent clients, ES384 assertions)`);
    console.log(`GET Patient/{id} without AUTH (baseline, ${STORE} store): median ${round(median(base))} req/s over ${ROUNDS} rounds of ${DURATION} s`);
    console.log(`GET Patient/{id} with a bearer token (AUTH=smart, audited): median ${round(median(withAuth))} req/s, p99 median ${median(p99)} ms, non-2xx ${non2xx}`);
    console.log(`median of the rounds' ratios: ${round(ratio, 3)} (goal >= 0.85); ratio of the medians ${round(median(withAuth) / median(base), 3)}`);
    console.log(JSON.stringify({ bench: 'auth', store: STORE, tokens_per_s: round(tokensPerSecond), rps: round(median(withAuth)), baseline_rps: round(median(base)), ratio: round(ratio, 3), ratio_of_medians: round(median(withAuth) / median(base), 3), rounds: rounds.map((r) => round(r, 3)), non2xx, audit_written: smart.gw.security.audit?.written, audit_failures: smart.gw.security.audit?.failures }));
  } finally {
    await smart.stop();
    await open.stop();
    for (const d of dbs) await d.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
