// numbergame_ref.mjs: an independent reference implementation of the
// number game, written from the model's description
// (symbolic/concepts/README.md), not from nsr's C code. It enumerates
// every hypothesis one by one (34 rules and all N(N+1)/2 intervals), which
// nsr never does, so the two agree only if both are right. Used by the SDK
// client test to check nsr's answers, and by the benchmark's SDK-based
// server to answer them.

function range(lo, hi) {
  const out = [];
  for (let y = lo; y <= hi; y++) out.push(y);
  return out;
}

function isPrime(y) {
  if (y < 2) return false;
  for (let d = 2; d * d <= y; d++) if (y % d === 0) return false;
  return true;
}

// The 34 rules, in nsr's order, as [name, membership predicate].
export function rules() {
  const list = [
    ['even', (y) => y % 2 === 0],
    ['odd', (y) => y % 2 === 1],
    ['squares', (y) => Number.isInteger(Math.round(Math.sqrt(y))) && Math.round(Math.sqrt(y)) ** 2 === y],
    ['cubes', (y) => Math.round(Math.cbrt(y)) ** 3 === y],
    ['primes', isPrime],
  ];
  for (let k = 3; k <= 12; k++) list.push([`multiples of ${k}`, (y) => y % k === 0]);
  for (let k = 2; k <= 10; k++) {
    list.push([`powers of ${k}`, (y) => {
      for (let p = k; p <= y; p *= k) if (p === y) return true;
      return false;
    }]);
  }
  for (let d = 0; d <= 9; d++) list.push([`ends in ${d}`, (y) => y % 10 === d && y >= 1]);
  return list;
}

const erlang = (s, sigma) => (s / (sigma * sigma)) * Math.exp(-s / sigma);

// The answer nsr's number_game gives: {hypotheses (top k), generalization,
// log_evidence, consistent}. opts: {range, prior, lambda, sigma, top}.
export function numberGame(examples, opts = {}) {
  const N = opts.range ?? 100, sigma = opts.sigma ?? 10, top = opts.top ?? 10;
  const prior = opts.prior ?? 'pmtk3', lambda = opts.lambda ?? 2 / 3;
  const hyps = [];
  for (const [name, pred] of rules()) {
    const members = range(1, N).filter(pred);
    hyps.push({ name, kind: 0, order: hyps.length, members, size: members.length });
  }
  const nRules = hyps.length;
  for (let a = 1; a <= N; a++) {
    for (let b = a; b <= N; b++) {
      hyps.push({ name: `interval ${a}..${b}`, kind: 1, order: a, lo: a, hi: b, size: b - a + 1 });
    }
  }
  // Unnormalised prior weights, then normalised over the whole space.
  let z = 0;
  for (let i = nRules; i < hyps.length; i++) z += erlang(hyps[i].size, sigma);
  for (const h of hyps) {
    if (prior === 'pmtk3') h.w = h.kind === 0 ? 2 / 3 : erlang(h.size, sigma) / 3;
    else h.w = h.kind === 0 ? lambda / nRules : ((1 - lambda) * erlang(h.size, sigma)) / z;
  }
  const total = hyps.reduce((s, h) => s + h.w, 0);
  const has = (h, y) => (h.kind === 0 ? h.members.includes(y) : y >= h.lo && y <= h.hi);
  let evidence = 0;
  const consistent = { rules: 0, intervals: 0 };
  for (const h of hyps) {
    h.prior = h.w / total;
    const ok = examples.every((x) => has(h, x));
    h.joint = ok && h.size > 0 ? h.prior * Math.pow(1 / h.size, examples.length) : 0;
    if (ok && h.prior > 0) consistent[h.kind === 0 ? 'rules' : 'intervals']++;
    evidence += h.joint;
  }
  const generalization = new Array(N).fill(0);
  for (const h of hyps) {
    h.posterior = h.joint / evidence;
    if (h.posterior === 0) continue;
    if (h.kind === 0) for (const y of h.members) generalization[y - 1] += h.posterior;
    else for (let y = h.lo; y <= h.hi; y++) generalization[y - 1] += h.posterior;
  }
  const ranked = hyps
    .filter((h) => h.posterior > 0)
    .sort((p, q) => q.posterior - p.posterior || p.kind - q.kind || p.order - q.order)
    .slice(0, top)
    .map(({ name, posterior, prior: pr, size }) => ({ name, posterior, prior: pr, size }));
  return { hypotheses: ranked, generalization, log_evidence: Math.log(evidence), consistent };
}
