"""Streaming: peak memory is that of one block, whatever the number of loans."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from npldesk.synth.book import BLOCK_LOANS

# Runs in a fresh interpreter and prints its own peak RSS (KiB): VmHWM of its own address
# space. Not getrusage: Linux keeps ru_maxrss across exec, so a child forked from a test
# session that has grown (after the PySpark tests, 400 MB) reported the session's size.
CHILD = """
import sys
from pathlib import Path
from npldesk.synth import generate
result = generate(Path(sys.argv[1]), loans=int(sys.argv[2]), months=2)
assert result.rows > int(sys.argv[2])
status = Path("/proc/self/status").read_text().splitlines()
print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""

# Bound for 300,000 loans (three blocks of 100,000 plus their new lending): the interpreter with
# NumPy and Arrow's compute kernels takes about 120 MB, one block about 220 MB at its peak. A
# generator that held the whole book would need three times the block part (about 800 MB).
PEAK_LIMIT_MB = 500


def _peak_mb(out: Path, loans: int) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), str(loans)],
        # On a busy machine glibc gives each contending thread its own malloc arena, and the
        # peak grew by 200 MB in one such run with the same book: two arenas keep the figure
        # about the generator's own memory, not about the machine's load.
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return int(completed.stdout.strip().splitlines()[-1]) / 1024


def test_peak_memory_does_not_grow_with_the_book(tmp_path: Path) -> None:
    assert BLOCK_LOANS == 100_000, "PEAK_LIMIT_MB is reasoned for blocks of 100,000 loans"
    one_block = _peak_mb(tmp_path / "one", BLOCK_LOANS)
    three_blocks = _peak_mb(tmp_path / "three", 3 * BLOCK_LOANS)
    assert three_blocks < PEAK_LIMIT_MB
    assert three_blocks < one_block * 1.2, (one_block, three_blocks)
