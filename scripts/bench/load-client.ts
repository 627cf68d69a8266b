/**
 * A load client in a process of its own (bench:lookup): sent `{ urls, concurrency, warm }`, it
 * asks for every URL with that many requests in flight and answers `{ ms, statuses, wallMs }`.
 * In the gateway's process its own work (HTTP parsing, timers) would count as the gateway's.
 * `warm` is fetched first, untimed, with as many connections: a fresh process's first `fetch`
 * loads its HTTP client and opens its connections, tens of milliseconds that are not the gateway's.
 */
process.on('message', async (m: { urls: string[]; concurrency: number; warm: string }) => {
  await Promise.all(Array.from({ length: m.concurrency }, async () => (await fetch(m.warm)).arrayBuffer()));
  const ms: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: m.concurrency }, async () => {
      while (next < m.urls.length) {
        const url = m.urls[next++]!;
        const t = performance.now();
        const r = await fetch(url);
        await r.arrayBuffer();
        ms.push(performance.now() - t);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    }),
  );
  process.send!({ ms, statuses, wallMs: performance.now() - t0 }, () => process.exit(0));
});
