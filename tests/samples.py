"""The shared sample files: `../shared/samples`, beside the repository's checkout."""

from pathlib import Path
from typing import Final

SAMPLES: Final = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
SAMPLE_PAGE: Final = SAMPLES / "aggregator-seed.page.jsonl"
"""The sample aggregator page's envelope, one RawPage JSON line."""
