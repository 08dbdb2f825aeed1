#!/usr/bin/env python3
"""Summarise a JFR recording of `polyv bench decode` over its timed decode steps only.

  POLYV_JAVA_OPTS="-XX:StartFlightRecording=filename=dec.jfr,settings=profile" \
      ./polyv bench decode --config mid --batch 1 --tokens 512 --prompt 16
  $JAVA_HOME/bin/jfr print --json --events jdk.ExecutionSample dec.jfr > dec.json
  python3 scripts/jfr-decode-profile.py dec.json

The window is from the last main-thread sample inside a prefill to the last one inside Session.decode (the timed
batch's steps; warm-up and ceilings are left out). Samples are counted per category (GEMV kernel, GEMM, attention,
pool wait, other) and by top frame, for the main thread (the step's critical path) and for all threads.
"""
import json, sys, collections
d = json.load(open(sys.argv[1]))
ev = d['recording']['events']
S = []
for e in ev:
    v = e['values']; th = v['sampledThread']['javaName'] if v.get('sampledThread') else '?'
    fr = [f['method']['type']['name'] + '.' + f['method']['name'] for f in v['stackTrace']['frames']]
    S.append((v['startTime'], th, fr))
S.sort()
main = [s for s in S if s[1] == 'main']
lastpre = max(i for i, s in enumerate(main) if any('prefill' in f for f in s[2]))
t0 = main[lastpre][0]
dec = [s for s in main if s[0] > t0 and any('Session.decode' in f for f in s[2])]
t1 = dec[-1][0]
W = [s for s in S if t0 < s[0] <= t1]
print(f"window {t0} .. {t1}: {len(W)} samples, main {sum(1 for s in W if s[1]=='main')}")
def cat(fr):
    top = fr[0] if fr else '?'
    if any('gemvBf16' in f or 'gemvF32' in f for f in fr): return 'GEMV kernel (gemvBf16Rows / gemvBf16 / gemvF32)'
    if any('SmallBatchGemm' in f or 'Gemm.' in f for f in fr): return 'GEMM (MoE expert / small batch)'
    if 'workerLoop' in top or 'onSpinWait' in top or 'park' in top.lower(): return 'pool wait (spin/park between loops)'
    if any('parallelFor' in f for f in fr) and ('nanoTime' in top or 'onSpinWait' in top or 'park' in top.lower()): return 'pool wait (spin/park between loops)'
    if any('Attention' in f for f in fr): return 'attention'
    return 'other: ' + top
for who in ['main', 'all']:
    X = [s for s in W if who == 'all' or s[1] == who]
    c = collections.Counter(cat(s[2]) for s in X)
    print(f"\n{who} threads ({len(X)} samples), by category")
    for k, n in c.most_common(14): print(f"  {100*n/len(X):5.1f}%  {n:5d}  {k}")
    t = collections.Counter(s[2][0] if s[2] else '?' for s in X)
    print(f"{who}: top frames (self)")
    for k, n in t.most_common(15): print(f"  {100*n/len(X):5.1f}%  {n:5d}  {k}")
