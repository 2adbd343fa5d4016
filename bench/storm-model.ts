/**
 * `node dist/bench/storm-model.js`: the reconnect storm as a Monte Carlo model, no sockets, no
 * timers (the numbers behind "Storm analysis" in RESULTS.md). N clients lose the server at
 * t = 0, every dial before the restart at R fails at once (1 ms), and the first dial at or after
 * R is counted per 100 ms window. Two schedules: independent full jitter (each delay drawn from
 * [0, window) after the failure before it) and the slotted one of lib/reconnect/backoff.ts
 * (reconnect n uniform in its own slot counted from the loss). Prints, per restart time, the mean
 * and worst (over trials) share of the busiest window, and the mean time until the last dial.
 */
type Windows = (n: number) => number;

function model(slotted: boolean, windows: Windows, n: number, restart: number, trials: number): { mean: number; worst: number; last: number } {
  let sum = 0;
  let worst = 0;
  let lastSum = 0;
  for (let trial = 0; trial < trials; trial++) {
    const counts = new Map<number, number>();
    let last = 0;
    for (let c = 0; c < n; c++) {
      let now = 0;
      let slot = 0;
      for (let attempt = 1; ; attempt++) {
        const w = windows(attempt);
        const offset = Math.random() * w;
        const at = slotted && slot + offset >= now ? slot + offset : now + offset;
        slot += w;
        now = at + 1;
        if (at < restart) continue;
        const k = Math.floor((at - restart) / 100);
        counts.set(k, (counts.get(k) ?? 0) + 1);
        last = Math.max(last, at - restart);
        break;
      }
    }
    const share = Math.max(...counts.values()) / n;
    sum += share;
    worst = Math.max(worst, share);
    lastSum += last;
  }
  return { mean: sum / trials, worst, last: lastSum / trials };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const schedules: Array<[string, boolean, Windows]> = [
  ['independent, 1 s doubling (the old default)', false, (a) => Math.min(30_000, 1000 * 2 ** (a - 1))],
  ['slotted, 1 s doubling', true, (a) => Math.min(30_000, 1000 * 2 ** (a - 1))],
  ['slotted, 1 s then 3 s doubling (the default)', true, (a) => (a === 1 ? 1000 : Math.min(30_000, 3000 * 2 ** (a - 2)))],
  ['slotted, 1 s then 4 s doubling', true, (a) => (a === 1 ? 1000 : Math.min(30_000, 4000 * 2 ** (a - 2)))],
];
const n = Number(process.argv[2] ?? 2000);
for (const [name, slotted, windows] of schedules) {
  const cells = [1100, 2000, 2500, 3000, 5000].map((r) => {
    const m = model(slotted, windows, n, r, 10);
    return `R=${r}: ${pct(m.mean)} (worst ${pct(m.worst)}), last dial +${(m.last / 1000).toFixed(1)} s`;
  });
  console.log(`${name}, ${n} clients\n  ${cells.join('\n  ')}`);
}
