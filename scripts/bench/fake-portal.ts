import { FakeVss, person } from '../../test/helpers/fake-vss';

/**
 * The fake VSS portal in a process of its own (bench:lookup's uncached run): in the gateway's
 * process its 50 ms answers waited on the gateway's event loop and the portal looked slower
 * than it is. Argv: first person number, how many, latency in ms. Sends `{ url }` when
 * listening; answers `'stats'` with its call counts and busy time.
 */
async function main() {
  const [first, count, latency] = process.argv.slice(2).map(Number) as [number, number, number];
  const fake = await new FakeVss().start();
  fake.persons.push(...Array.from({ length: count }, (_, i) => person(first + i)));
  fake.latencyMs = latency;
  process.on('message', (m) => {
    if (m === 'stats') process.send!({ calls: fake.calls.lookup, maxInFlight: fake.maxInFlight, busyMs: fake.busyMs });
  });
  process.on('disconnect', () => void fake.stop().then(() => process.exit(0)));
  process.send!({ url: fake.url });
}

void main();
