#!/usr/bin/env python3
"""webchurch's own test suite, run with `nsr run --webchurch` by the rules of
webchurch's runner (tester.js in github.com/probmods/webchurch):

- test/*.church (and test/probmods/*.church): cases are separated by a blank
  line; the last line of a case is the wanted output, compared with the
  case's value formatted as webchurch's format_result formats it (lists in
  parentheses, strings and symbols bare, #t/#f, undefined, JavaScript's
  numerals). nsr's value is read from `--json`, whose mapping is the same as
  a webchurch value's JavaScript form.
- test/probmods/*.md (the book's chapters): every ~~~~ {…} block is a case
  that passes when it runs without an error; a block marked `shouldfail`
  passes when it fails; blocks marked norun, mit-church, idealized or skip
  and blocks holding `...` or runPhysics are skipped, and count as passed
  (as tester.js counts them).
- The runner's shims: tester.js binds the plot and physics procedures to
  the identity. Those nsr does not define are bound likewise here, so that
  a case fails only on what nsr lacks as a language.

Usage: webchurch_suite.py NSR [--webchurch-dir DIR] [--known FILE]
           [--skip-known] [-v] [--jobs N] [--max-time S] [PATTERN...]

Without --webchurch-dir the repository is extracted from the mirror
($NSR_WEBCHURCH_MIRROR, default /work/.mirror/probmods+webchurch/repo, a
bare git directory); without either it exits 77 (skipped). PATTERNs select
cases by id (`basic.church#12`, `probmods/conditioning.md`). With --known,
the cases listed in FILE (one id a line, `#` comments) are expected to
fail: the exit status is 0 when every other case passes, and a known case
that passes is reported so that the list shrinks; --skip-known does not run
them (the meson test does so: several of them run until their time budget).
--max-time is each case's wall-time budget (default 60 s, far above what
any passing case needs). Prints a line per failing case (per case with -v),
the totals per file and overall, and the slowest cases."""

import argparse
import concurrent.futures
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

SKIP = 77

# tester.js's shims: plots and physics are the identity there.
SHIMS = ['hist', 'multiviz', 'density', 'runPhysics', 'animatePhysics', 'scatter',
         'draw-rect', 'raphael-js', 'make-raphael', 'lineplot', 'lineplot-value',
         'barplot']


def parse_church(src):
    """Cases of a .church test file: (input, wanted) pairs."""
    cases = []
    for chunk in src.split('\n\n'):
        lines = chunk.strip().split('\n')
        wanted = lines.pop()
        cases.append({'input': '\n'.join(lines), 'wanted': wanted})
    return cases


def parse_md(src):
    """Cases of a chapter: the ~~~~ blocks, with tester.js's skip rules."""
    cases, current, inside = [], None, False
    for line in src.split('\n'):
        if '~~~~' in line and 'test' not in line and inside:
            inside = False
            cases.append(current)
        if inside:
            current['input'] += '\n' + line
            if re.search(r'\.\.\.|runPhysics', line):
                current['skip'] = True
        if '~~~~ {' in line:
            current = {'input': '', 'wanted': None,
                       'should_fail': 'shouldfail' in line,
                       'skip': bool(re.search(r'norun|mit-church|idealized|skip', line))}
            inside = True
    return cases


def js_number(x):
    """A double as JavaScript's Number.prototype.toString writes it."""
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    if x == 0:
        return '0'
    digits, exp = shortest_digits(abs(x))
    sign = '-' if x < 0 else ''
    n = exp + 1  # position of the decimal point after the first digit
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + '0' * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + '.' + digits[n:]
    if -6 < n <= 0:
        return sign + '0.' + '0' * (-n) + digits
    e = n - 1
    mant = digits[0] + ('.' + digits[1:] if k > 1 else '')
    return sign + mant + 'e' + ('+' if e >= 0 else '-') + str(abs(e))


def shortest_digits(x):
    """The shortest digit string that reads back as x, and its exponent."""
    m = re.match(r'(\d)(?:\.(\d+))?e([+-]\d+)', '%.17e' % x)
    for precision in range(1, 18):
        text = '%.*e' % (precision - 1, x)
        if float(text) == x:
            m = re.match(r'(\d)(?:\.(\d+))?e([+-]\d+)', text)
            break
    digits = (m.group(1) + (m.group(2) or '')).rstrip('0') or '0'
    return digits, int(m.group(3))


def format_result(v):
    """webchurch's format_result of the JavaScript form of a value."""
    if isinstance(v, list):
        return '(' + ' '.join(format_result(x) for x in v) + ')'
    if isinstance(v, bool):
        return '#t' if v else '#f'
    if v is None:
        return 'undefined'
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return js_number(float(v)) if abs(v) >= 2**53 else str(v)
    return js_number(v)


def unbound_shims(nsr):
    """The shim names nsr itself does not bind."""
    missing = []
    for name in SHIMS:
        r = subprocess.run([nsr, 'run', '--webchurch', '-e', name],
                           capture_output=True, text=True, check=False)
        if r.returncode != 0:
            missing.append(name)
    return missing


def shim_prefix(names):
    """Definitions of the missing shims, on one line (line numbers stay)."""
    defs = ''.join('(define (%s x . rest) x)' % n for n in names)
    if defs:
        defs += '(define worldWidth 350)(define worldHeight 500)'
    return defs + ' '


def run_case(nsr, root, prefix, case, max_time):
    """Runs one case; returns (passed, detail, seconds)."""
    start = time.monotonic()
    ok, detail = run_case_untimed(nsr, root, prefix, case, max_time)
    return ok, detail, time.monotonic() - start


def run_case_untimed(nsr, root, prefix, case, max_time):
    """Runs one case; returns (passed, detail)."""
    if case.get('skip'):
        return True, 'skipped'
    with tempfile.NamedTemporaryFile('w', suffix='.church', delete=False,
                                     encoding='utf-8') as f:
        f.write(prefix + case['input'])
        path = f.name
    try:
        r = subprocess.run([nsr, 'run', '--webchurch', '--json', '--max-time', str(max_time),
                            path], cwd=root, capture_output=True, text=True, check=False,
                           timeout=max_time + 30)
    except subprocess.TimeoutExpired:
        return False, 'no answer within %d s' % (max_time + 30)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        error = (r.stderr.strip().split('\n') or [''])[-1]
        if case.get('should_fail'):
            return True, 'failed as it should: ' + error
        return False, error
    if case.get('should_fail'):
        return False, 'ran, but should fail'
    if case['wanted'] is None:
        return True, 'ran'
    try:
        got = format_result(json.loads(r.stdout)['value'])
    except (ValueError, KeyError) as e:
        return False, 'unreadable output: %s' % e
    if got != case['wanted']:
        return False, 'got %s, wanted %s' % (got, case['wanted'])
    return True, got


def extract_mirror():
    """The webchurch tree from the mirror, or None when there is none."""
    mirror = os.environ.get('NSR_WEBCHURCH_MIRROR', '/work/.mirror/probmods+webchurch/repo')
    if not os.path.isdir(mirror):
        return None
    dest = tempfile.mkdtemp(prefix='nsr-webchurch-')
    archive = subprocess.run(['git', '-C', mirror, 'archive', 'HEAD'], capture_output=True,
                             check=False)
    if archive.returncode != 0:
        return None
    subprocess.run(['tar', '-x', '-C', dest], input=archive.stdout, check=True)
    return dest


def collect_cases(root):
    """Every case of the suite as (id, case), in tester.js's file order."""
    out = []
    for sub in ['test', 'test/probmods']:
        folder = os.path.join(root, sub)
        for name in sorted(os.listdir(folder)):
            ext = name.rsplit('.', 1)[-1]
            if ext not in ('church', 'md'):
                continue
            with open(os.path.join(folder, name), encoding='utf-8') as f:
                src = f.read()
            cases = parse_church(src) if ext == 'church' else parse_md(src)
            label = os.path.relpath(os.path.join(folder, name), os.path.join(root, 'test'))
            out.extend(('%s#%d' % (label, i), c) for i, c in enumerate(cases))
    return out


def read_known(path):
    """The ids listed in a known-failures file."""
    if not path:
        return set()
    with open(path, encoding='utf-8') as f:
        return {line.split()[0] for line in f if line.strip() and not line.startswith('#')}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    ap.add_argument('nsr')
    ap.add_argument('--webchurch-dir')
    ap.add_argument('--known')
    ap.add_argument('--skip-known', action='store_true')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--max-time', type=int, default=60)
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('patterns', nargs='*')
    args = ap.parse_intermixed_args()
    root = args.webchurch_dir or extract_mirror()
    if root is None or not os.path.isdir(os.path.join(root, 'test')):
        print('webchurch_suite: no webchurch mirror; skipped')
        return SKIP
    nsr = os.path.abspath(args.nsr)
    prefix = shim_prefix(unbound_shims(nsr))
    cases = [(cid, c) for cid, c in collect_cases(root)
             if not args.patterns or any(p == cid or ('#' not in p and p in cid)
                                                 for p in args.patterns)]
    known = read_known(args.known)
    if args.skip_known:
        skipped = [cid for cid, _ in cases if cid in known]
        cases = [(cid, c) for cid, c in cases if cid not in known]
        print('not run (known failures, --skip-known): %d' % len(skipped))
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda ic: run_case(nsr, root, prefix, ic[1], args.max_time),
                                cases))
    totals, unexpected, fixed = {}, [], []
    for (cid, case), (ok, detail, _) in zip(cases, results):
        label = cid.split('#')[0]
        group = 'chapters' if label.endswith('.md') else 'suite'
        for key in (label, group):
            passed, total = totals.get(key, (0, 0))
            totals[key] = (passed + ok, total + 1)
        first_line = detail.split('\n')[0][:200]
        if not ok or args.verbose:
            print('%s %s: %s' % ('pass' if ok else 'FAIL', cid, first_line))
        if not ok and cid not in known:
            unexpected.append(cid)
        if ok and cid in known:
            fixed.append(cid)
    for key in sorted(k for k in totals if k not in ('suite', 'chapters')):
        print('%-45s %d / %d' % (key, *totals[key]))
    for group in ('suite', 'chapters'):
        if group in totals:
            print('total %-39s %d / %d' % (group, *totals[group]))
    slowest = sorted(zip(cases, results), key=lambda cr: -cr[1][2])[:5]
    print('slowest: ' + ', '.join('%s %.1f s' % (cid, r[2]) for (cid, _), r in slowest))
    if fixed:
        print('known failures that now pass (remove them from the list): ' + ' '.join(fixed))
    if args.known and unexpected:
        print('unexpected failures: ' + ' '.join(unexpected))
    if not args.webchurch_dir:
        subprocess.run(['rm', '-rf', root], check=False)
    return 1 if unexpected and (args.known or not args.patterns) else 0


if __name__ == '__main__':
    sys.exit(main())
