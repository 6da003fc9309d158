#!/usr/bin/env python3
"""derive_references.py: the reference answers of suite.txt, each by a
method other than the programs' own (sampling or path enumeration): sums by
hand over a few variables, forward-backward, dynamic programming, a Kalman
filter, conjugate posteriors and a grid integral. Prints one line a program
in suite.txt's order of values. Standard library only; a few seconds.

The references not derived here come from peer programs (WebPPL, named in
suite.txt) or by hand in tests/symbolic/lang/test_lang_programs.c."""
from math import exp, lgamma, sqrt


def sprinkler():
    """P(rain | wet lawn), P(sprinkler | wet lawn): a sum over (rain, sprinkler)."""
    z = rain = sprink = 0.0
    for r in (0, 1):
        for s in (0, 1):
            prior = (0.2 if r else 0.8) * (0.3 if s else 0.7)
            wet = 1 - (1 - 0.9 * r) * (1 - 0.8 * s) * (1 - 0.05)
            z += prior * wet
            rain += prior * wet * r
            sprink += prior * wet * s
    return rain / z, sprink / z


def hmm():
    """P(rainy on the last day), expected rainy days: forward-backward."""
    seen = [1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1]
    stay = [[0.7, 0.3], [0.3, 0.7]]  # [today][tomorrow], state 0 = rainy

    def emit(state, umbrella):
        p = 0.9 if state == 0 else 0.2
        return p if umbrella else 1 - p

    fwd = [[0.5 * emit(s, seen[0]) for s in (0, 1)]]
    for o in seen[1:]:
        fwd.append([sum(fwd[-1][q] * stay[q][s] for q in (0, 1)) * emit(s, o) for s in (0, 1)])
    bwd = [[1.0, 1.0] for _ in seen]
    for t in range(len(seen) - 2, -1, -1):
        bwd[t] = [sum(stay[s][q] * emit(q, seen[t + 1]) * bwd[t + 1][q] for q in (0, 1))
                  for s in (0, 1)]
    z = sum(fwd[-1])
    rainy = [fwd[t][0] * bwd[t][0] / z for t in range(len(seen))]
    return rainy[-1], sum(rainy)


def heads_distribution(weights):
    """P(k heads) for independent coins, by dynamic programming."""
    dist = [1.0]
    for w in weights:
        nxt = [0.0] * (len(dist) + 1)
        for k, p in enumerate(dist):
            nxt[k] += p * (1 - w)
            nxt[k + 1] += p * w
        dist = nxt
    return dist


def wide():
    """P(first coin heads | >= 11 heads), E[heads among the first nine | >= 11 heads]."""
    w = [0.3 + 0.02 * i for i in range(18)]
    middle, tail = heads_distribution(w[1:9]), heads_distribution(w[9:])
    z = first = nine = 0.0
    for f in (0, 1):
        for i, pm in enumerate(middle):
            for j, pt in enumerate(tail):
                if f + i + j >= 11:
                    p = (w[0] if f else 1 - w[0]) * pm * pt
                    z += p
                    first += p * f
                    nine += p * (f + i)
    return first / z, nine / z


def kalman():
    """The posterior mean of the last position of the random walk."""
    readings = [0.8, 1.9, 2.4, 2.1, 3.5, 4.2, 3.9, 5.1, 5.8, 5.5,
                6.9, 7.4, 7.2, 8.6, 9.1, 9.3, 10.2, 11.0, 10.7, 12.1]
    mean, var = 0.0, 0.0
    for y in readings:
        var += 1
        gain = var / (var + 1)
        mean += gain * (y - mean)
        var *= 1 - gain
    return (mean,)


def log_beta(a, b):
    return lgamma(a) + lgamma(b) - lgamma(a + b)


def hierarchical_coins(points=200000):
    """E[mint bias], E[weight of coin a]: a grid over the bias, each coin's
    weight integrated out in closed form."""
    counts = [(3, 1), (4, 0), (3, 1)]  # (heads, tails) of coins a, b, c
    z = bias = weight = 0.0
    for k in range(points):
        m = (k + 0.5) / points
        a, b = 5 * m, 5 * (1 - m)
        p = exp(sum(log_beta(a + h, b + t) - log_beta(a, b) for h, t in counts))
        h, t = counts[0]
        z += p
        bias += p * m
        weight += p * (a + h) / (a + b + h + t)
    return bias / z, weight / z


if __name__ == '__main__':
    print('hmm_deep', *map(repr, hmm()))
    print('wide_enum', *map(repr, wide()))
    print('rejection_sprinkler', *map(repr, sprinkler()))
    print('dirichlet_marbles', *map(repr, (6 / 11, 2 / 11, 3 / 11)))  # Dirichlet(1+5, 1+1, 1+2)
    print('coin_weight_learning', repr(8 / 12))  # Beta(1+7, 1+3)
    print('hierarchical_coins', *map(repr, hierarchical_coins()))
    print('smc_random_walk', *map(repr, kalman()))
    print('scalar_implicature', 0, repr(4 / 9), repr(4 / 9), repr(1 / 9))
    print('posterior sds: dirichlet', [round(sqrt(a * (11 - a) / (121 * 12)), 3) for a in (6, 2, 3)],
          'beta', round(sqrt(8 * 4 / (144 * 13)), 3))
