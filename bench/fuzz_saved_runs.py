"""Saved runs with one field of a wrong type (issue 11 item 15): records a few real sessions
from the mock (a continued one, a reset, a 429 retried, a Gemini tool call), then sets every
field of every line, one at a time, to each of a dozen wrong-typed values and runs `diagnose`
on the result. Prints how many variants were judged, refused with a one-line message, or
crashed (the goal: 0 crashes).

    python bench/fuzz_saved_runs.py
"""

from __future__ import annotations

import collections
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.cli import main
from core.record.diagnose import DiagnoseError, diagnose_bytes

RUNS = (
    ("anthropic", "mock-normal", ("--max-tokens", "12", "--continue-until-complete", "3")),
    ("openai-chat", "mock-reset_mid_stream", ()),
    ("openai-chat", "mock-http_429", ("--retries", "1")),
    ("gemini", "mock-tool_call", ()),
    ("openai-responses", "mock-max_tokens", ()),
)
WRONG = (None, 0, -1, 1e308, "x", "", [], {}, True, [[1]], {"a": {}}, "2" * 400)


def paths(obj, prefix=(), depth=0):
    if isinstance(obj, dict) and depth < 4:
        for k, v in obj.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k), depth + 1)
    elif isinstance(obj, list) and depth < 4:
        for i, v in enumerate(obj[:3]):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i), depth + 1)


def put(obj, path, value):
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def main_() -> None:
    tmp = Path(tempfile.mkdtemp())
    os.environ["STREAMSCOPE_DATA"] = str(tmp)
    files = []
    for dialect, model, extra in RUNS:
        path = tmp / f"{model}.jsonl"
        argv = ["probe", "--base-url", "mock", "--dialect", dialect, "--model", model,
                "--save", str(path), "--no-history", "--json", *extra]  # fmt: skip
        with open(os.devnull, "w") as sink:
            stdout, sys.stdout = sys.stdout, sink
            try:
                main(argv)
            finally:
                sys.stdout = stdout
        files.append(path.read_text().splitlines())
    judged = refused = 0
    crashes: collections.Counter[str] = collections.Counter()
    t = time.perf_counter()
    for lines in files:
        for i, line in enumerate(lines):
            for path in paths(json.loads(line)):
                for value in WRONG:
                    mutated = json.dumps(put(json.loads(line), path, value))
                    data = "\n".join([*lines[:i], mutated, *lines[i + 1 :]]).encode()
                    try:
                        json.dumps(diagnose_bytes(data).to_json())
                        judged += 1
                    except DiagnoseError:
                        refused += 1
                    except Exception as exc:  # the figure this script exists to print
                        frame = traceback.extract_tb(exc.__traceback__)[-1]
                        crashes[f"{type(exc).__name__} at {frame.filename}:{frame.lineno}"] += 1
    total = judged + refused + sum(crashes.values())
    took = time.perf_counter() - t
    print(f"{total:,} saved-run variants with one wrong-typed field in {took:.0f} s:")
    print(f"  judged {judged:,} · refused with a one-line message {refused:,} · "
          f"crashed {sum(crashes.values()):,}")  # fmt: skip
    for site, n in crashes.most_common():
        print(f"  {n:,} × {site}")


if __name__ == "__main__":
    main_()
