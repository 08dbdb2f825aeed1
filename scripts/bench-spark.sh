#!/usr/bin/env bash
# 256 chat requests on the demo checkpoint (16 new tokens each, greedy): one `generate --batch-file` process,
# then `spark generate` in local[1] and local[2]. Prints each run's summary line (tokens/s, job time, JVM start excluded).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${POLYV_CACHE:-$HOME/.cache/polyv}/demo-v1"
W="${1:-/tmp/polyv-bench-spark}"
mkdir -p "$W"
python3 - "$W/requests.jsonl" <<'PY'
import json, sys
topics = ["a cat", "the sea", "a red car", "mountains", "a city at night", "a garden", "an old book", "the moon"]
with open(sys.argv[1], "w") as f:
    for i in range(256):
        f.write(json.dumps({"prompt": f"Write one sentence about {topics[i % 8]} (request {i})."}) + "\n")
PY
cd "$ROOT"
./polyv generate --model "$MODEL" --batch-file "$W/requests.jsonl" --out "$W/one-process.jsonl" --max-new-tokens 16 --max-batch 16 2>&1 | grep '^generate: 256'
for m in 1 2; do
  ./polyv spark generate --master "local[$m]" --model "$MODEL" --batch-file "$W/requests.jsonl" --out "$W/spark-local$m.jsonl" \
    --max-new-tokens 16 --max-batch 16 --partitions $((2 * m)) 2>&1 | grep '^spark generate:'
done
python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
ref = [json.loads(l)["ids"] for l in open(f"{w}/one-process.jsonl")]
for m in (1, 2):
    got = [json.loads(l)["ids"] for l in open(f"{w}/spark-local{m}.jsonl")]
    print(f"local[{m}]: {sum(a == b for a, b in zip(ref, got))}/{len(ref)} requests with the one-process ids")
PY
