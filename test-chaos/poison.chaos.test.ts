import { createHash, randomUUID } from 'node:crypto';
import { createTestDatabase } from '../test/helpers/gateway';
import { startChildGateway, type ChildGateway } from '../test/helpers/process';
import { openDb } from '../src/store/db';
import { MessageLog } from '../src/store/message-log';
import { Repository } from '../src/store/repository';
import { admission, eventually, identifierCounts, messageCount, mllpStream, summary, CHAOS_ENV } from './helpers/load';

/**
 * Poison messages — content the database or a mapper cannot take — beside good ones: every
 * good message is processed, every poison message ends quarantined (or rejected), none stays
 * `received`, whether they arrive live or are left behind by a crash for recovery to finish.
 */
const POISONS: ((i: number) => string)[] = [
  (i) => admission('PX', i).replace('Nguyễn^', 'Nguy\u0000n^'), // a NUL byte in a name
  (i) => admission('PX', i).replace('Nguyễn^', 'Nguy\\X00\\n^'), // a NUL through an HL7 hex escape
  (i) => admission('PX', i).replace('|BV_CHAOS|GW|', '|BV\u0000CHAOS|GW|'), // a NUL in MSH-4
  (i) => admission('PX', i).replace(`|PX-${i}|P|`, `|PX-${i}-${'9'.repeat(3000)}|P|`), // an MSH-10 too long to index: may be accepted, must be kept
  (i) => admission('PX', i).replace('Nguyễn^', 'Nguy\u0001\u001bn^'), // control characters
  (i) => admission('PX', i).replace('19800115', '1980011\uD800'.replace('\uD800', '\\XD800\\')), // a lone surrogate through an escape
];

const LONG_KEY = 3; // the valid message with an over-long MSH-10

describe('poison messages beside good ones (PostgreSQL)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });
  const gateway = async (url: string): Promise<ChildGateway> => {
    const g = await startChildGateway({ ...CHAOS_ENV, DATABASE_URL: url, MLLP_PORT: 'auto' }, { readyTimeoutMs: 60_000 });
    cleanup.push(() => g.kill('SIGKILL'));
    return g;
  };

  test('live over MLLP: all good processed, poison quarantined, 0 stuck received', async () => {
    const db = await createTestDatabase();
    cleanup.push(db.drop);
    const gw = await gateway(db.url);
    const GOOD = 60;
    // one poison message after every fifth good one
    const messages: { text: string; good?: number; mayAccept?: boolean }[] = [];
    for (let i = 0; i < GOOD; i++) {
      messages.push({ text: admission('PG', i), good: i });
      if (i % 5 === 4) messages.push({ text: POISONS[Math.floor(i / 5) % POISONS.length]!(i), mayAccept: Math.floor(i / 5) % POISONS.length === LONG_KEY });
    }
    const acks = await mllpStream(gw.mllpPort!, messages.map((m) => m.text), 4);
    const settled = await eventually(async () => (await messageCount(gw.url, 'received')) === 0, 10_000);
    const stuck = settled ? 0 : await messageCount(gw.url, 'received');
    const patients = await identifierCounts(gw.fhir, 'Patient');
    const goodMissing = messages.filter((m) => m.good !== undefined && (acks.get(messages.indexOf(m)) !== 'AA' || !patients.get(`PG-${m.good}`))).length;
    const poisonCodes: Record<string, number> = {};
    messages.forEach((m, i) => {
      if (m.good === undefined && !m.mayAccept) poisonCodes[acks.get(i) ?? 'none'] = (poisonCodes[acks.get(i) ?? 'none'] ?? 0) + 1;
    });
    summary('poison beside good, live over MLLP', { good: GOOD, goodMissing, poison: messages.length - GOOD, longKeyMessages: messages.filter((m) => m.mayAccept).length, ...Object.fromEntries(Object.entries(poisonCodes).map(([k, v]) => [`poison${k}`, v])), stuckReceived: stuck, exits: gw.exit() ? 1 : 0 });
    // FHIR strings admit no control characters: such a message is quarantined (AE) or refused (AR), not accepted.
    expect({ goodMissing, stuck, exit: gw.exit(), poisonAccepted: poisonCodes.AA ?? 0, noAnswer: poisonCodes.none ?? 0 }).toEqual({ goodMissing: 0, stuck: 0, exit: undefined, poisonAccepted: 0, noAnswer: 0 });
  });

  test('left by a crash: recovery finishes all good ones and quarantines poison, 0 stuck received', async () => {
    const server = await createTestDatabase();
    cleanup.push(server.drop);
    // What a crash leaves behind: messages persisted as `received`, never processed — more than one batch of them.
    const db = await openDb({ databaseUrl: server.url, dataDir: '' });
    await Repository.open(db);
    const log = new MessageLog(db);
    const GOOD = 150;
    const POISON = 30;
    const rows = [...Array.from({ length: GOOD }, (_, i) => admission('RG', i)), ...Array.from({ length: POISON }, (_, i) => POISONS[i % POISONS.length]!(1000 + i))];
    // poison first, so nothing good can be reached without getting past it
    for (const text of [...rows.slice(GOOD), ...rows.slice(0, GOOD)]) {
      const raw = Buffer.from(text);
      await log.append({ id: randomUUID(), feed: 'hl7v2', facility: 'BV_CHAOS', contentType: 'mllp', receivedAt: new Date().toISOString(), checksum: createHash('sha256').update(raw).digest('hex'), size: raw.length }, raw);
    }
    await db.close();

    const gw = await gateway(server.url);
    const settled = await eventually(async () => (await messageCount(gw.url, 'received')) === 0, 60_000);
    const stuck = settled ? 0 : await messageCount(gw.url, 'received');
    const patients = await identifierCounts(gw.fhir, 'Patient');
    const goodMissing = Array.from({ length: GOOD }, (_, i) => i).filter((i) => !patients.get(`RG-${i}`)).length;
    const quarantined = (await messageCount(gw.url, 'quarantined')) + (await messageCount(gw.url, 'rejected'));
    // The valid message with an over-long MSH-10 may be accepted (its key is kept hashed); every other poison may not.
    const mayAccept = Array.from({ length: POISON }, (_, i) => i).filter((i) => i % POISONS.length === LONG_KEY).length;
    const poisonAccepted = (await messageCount(gw.url, 'accepted')) - GOOD;
    summary('poison beside good, left for recovery', { good: GOOD, goodMissing, poison: POISON, poisonQuarantined: quarantined, longKeyAccepted: poisonAccepted, stuckReceived: stuck, exits: gw.exit() ? 1 : 0 });
    expect({ goodMissing, stuck, settledPoison: quarantined + poisonAccepted }).toEqual({ goodMissing: 0, stuck: 0, settledPoison: POISON });
    expect(poisonAccepted).toBeLessThanOrEqual(mayAccept);
  });
});
