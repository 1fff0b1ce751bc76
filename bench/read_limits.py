"""Time and peak memory of the bounded reader: refusing a 10 MB single-line CSV, and reading a
normal 100,000-row orders CSV. Each case runs in a fresh process (peak RSS is per process).

    PYTHONPATH=. python bench/read_limits.py [FOLDER]

Compare with another checkout by pointing PYTHONPATH at it (an absolute path).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT = 60
MEASURE = """
import sys, time
import pandas, pyarrow  # imports are not the reader's cost
from suite.storage.files import read_batch
def peak_mb():  # VmHWM starts afresh at exec (ru_maxrss is inherited from the parent)
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
before = peak_mb()
best = None
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    try:
        what = f"{len(read_batch(sys.argv[1])):,} rows"
    except Exception as exc:
        what = f"{type(exc).__name__}: {str(exc).split(': ', 1)[-1][:90]}"
    took = time.process_time() - start
    best = took if best is None else min(best, took)
print(f"{best:.3f} s CPU (best of {sys.argv[2]}), +{peak_mb() - before:.0f} MB peak RSS over imports: {what}")
"""


def make_files(folder: Path) -> tuple[Path, Path]:
    import pandas as pd

    from suite.cli.sample_data import write_orders
    from suite.storage.files import read_batch

    batches = write_orders(folder / "source")
    frame = pd.concat([read_batch(folder / "source" / b.name) for b in batches[:3]], ignore_index=True)
    normal = folder / "normal_100k.csv"
    pd.concat([frame] * (100_000 // len(frame) + 1), ignore_index=True).iloc[:100_000].to_csv(
        normal, index=False
    )
    one_line = folder / "single_line_10mb.csv"
    one_line.write_bytes(b",".join([b"a"] * 5_000_000))
    return normal, one_line


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    normal, one_line = make_files(folder)
    for path, repeats in ((one_line, 3), (normal, 15)):
        command = [sys.executable, "-c", MEASURE, str(path), str(repeats)]
        try:  # run in the data folder: "-c" puts the working directory first on sys.path
            result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=folder)
        except subprocess.TimeoutExpired:
            print(f"{path.name}: no answer after {TIMEOUT} s (killed)")
            continue
        print(f"{path.name}: {result.stdout.strip() or result.stderr.strip()[-300:]}")


if __name__ == "__main__":
    main()
