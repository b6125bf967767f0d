"""Protocol constants, read from ``contracts/modules/constants.vy``.

The Vyper module is the single source: this file parses it, so a constant is
never typed twice. Every ``NAME: constant(uint256) = EXPR`` line is exported.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTANTS_FILE = ROOT / "contracts" / "modules" / "constants.vy"
# The packed words' field offsets and widths (``PACKING["BAND_AT"]``), parsed the same way.
PACKING_FILE = ROOT / "contracts" / "modules" / "packing.vy"

_LINE = re.compile(r"^([A-Z_][A-Z0-9_]*): constant\(uint256\) = ([0-9_*+\- ]+)$")


def _load(path: Path = CONSTANTS_FILE) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        match = _LINE.match(line.strip())
        if match:
            # Only digits, underscores and + - * appear: a safe arithmetic literal.
            values[match.group(1)] = int(eval(match.group(2).replace("_", ""), {"__builtins__": {}}))
    return values


_VALUES = _load()
globals().update(_VALUES)
PACKING: dict[str, int] = _load(PACKING_FILE)

MAX_BPS: int = _VALUES["MAX_BPS"]
WAD: int = _VALUES["WAD"]
BPS_TO_WAD: int = _VALUES["BPS_TO_WAD"]
MAX_ASSETS: int = _VALUES["MAX_ASSETS"]
MAX_TRADES: int = _VALUES["MAX_TRADES"]
DEAD_SHARES: int = _VALUES["DEAD_SHARES"]
MIN_RAMP_DURATION: int = _VALUES["MIN_RAMP_DURATION"]
VOL_SCALE_MIN_BPS: int = _VALUES["VOL_SCALE_MIN_BPS"]
VOL_SCALE_MAX_BPS: int = _VALUES["VOL_SCALE_MAX_BPS"]
SECONDS_PER_YEAR: int = _VALUES["SECONDS_PER_YEAR"]
TRIGGER_CALENDAR: int = _VALUES["TRIGGER_CALENDAR"]
TRIGGER_THRESHOLD: int = _VALUES["TRIGGER_THRESHOLD"]
TRIGGER_HYBRID: int = _VALUES["TRIGGER_HYBRID"]
ROLE_GUARDIAN: int = _VALUES["ROLE_GUARDIAN"]
ROLE_KEEPER: int = _VALUES["ROLE_KEEPER"]
ROLE_ALLOCATOR: int = _VALUES["ROLE_ALLOCATOR"]
TRIGGER_NAMES = {TRIGGER_CALENDAR: "calendar", TRIGGER_THRESHOLD: "threshold", TRIGGER_HYBRID: "hybrid"}
