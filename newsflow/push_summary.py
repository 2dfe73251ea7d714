"""What one `newsflow push` run did: counts by outcome, a few examples, and the accepted ids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from newsflow.push_units import Rejection, Skip

EXAMPLES_PER_REASON = 3


@dataclass(frozen=True, slots=True)
class PushSummary:
    """The outcome of a push: pages accepted, rejected and skipped, retries and pace."""

    accepted: int
    page_ids: tuple[str, ...]
    """Ids ingest gave the accepted pages, in the order it acknowledged them."""
    rejected: Mapping[str, int]
    """Rejected pages by reason (ingest's error code, `http_<status>`, or a local reason)."""
    rejected_examples: Mapping[str, tuple[str, ...]]
    """Up to three `origin [HTTP status]: detail` lines per rejection reason."""
    skipped: Mapping[str, int]
    """Inputs holding no page to send, by reason (unsupported_file, http_status, not_text, ...)."""
    skipped_examples: Mapping[str, tuple[str, ...]]
    """Up to three origins per skip reason."""
    retries: int
    """Requests sent again after a 429, a 503 or a connection error."""
    elapsed_s: float

    @property
    def rejected_total(self) -> int:
        """Pages rejected for any reason."""
        return sum(self.rejected.values())

    @property
    def skipped_total(self) -> int:
        """Inputs skipped for any reason."""
        return sum(self.skipped.values())

    @property
    def pages_per_s(self) -> float:
        """Accepted pages per second of the run."""
        return self.accepted / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when nothing was rejected, else 1."""
        return 1 if self.rejected_total else 0

    def render(self) -> str:
        """A few human lines for stderr."""
        lines = [
            f"pushed: {self.accepted} accepted, {self.rejected_total} rejected, "
            f"{self.skipped_total} skipped, {self.retries} retries in {self.elapsed_s:.2f} s "
            f"({self.pages_per_s:.1f} pages/s)"
        ]
        for reason, count in sorted(self.rejected.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  rejected {reason}: {count}")
            lines.extend(f"    {example}" for example in self.rejected_examples.get(reason, ()))
        for reason, count in sorted(self.skipped.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  skipped {reason}: {count}")
            lines.extend(f"    {example}" for example in self.skipped_examples.get(reason, ()))
        return "\n".join(lines)


@dataclass(slots=True)
class Tally:
    """The running counts of a push, turned into a PushSummary at the end."""

    page_ids: list[str] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    rejected_examples: dict[str, list[str]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    retries: int = 0

    def accept(self, page_ids: list[str]) -> None:
        """Count pages ingest acknowledged."""
        self.page_ids.extend(page_ids)

    def reject(self, rejection: Rejection) -> None:
        """Count pages that were not accepted, keeping the first few examples per reason."""
        self.rejected[rejection.reason] += rejection.pages
        status = f" [HTTP {rejection.status}]" if rejection.status is not None else ""
        _example(
            self.rejected_examples,
            rejection.reason,
            f"{rejection.origin}{status}: {rejection.detail}",
        )

    def skip(self, skip: Skip) -> None:
        """Count an input with nothing to send."""
        self.skipped[skip.reason] += 1
        _example(self.skipped_examples, skip.reason, skip.origin)

    def summary(self, elapsed_s: float) -> PushSummary:
        """The frozen summary of everything counted so far."""
        return PushSummary(
            accepted=len(self.page_ids),
            page_ids=tuple(self.page_ids),
            rejected=MappingProxyType(dict(self.rejected)),
            rejected_examples=MappingProxyType(
                {k: tuple(v) for k, v in self.rejected_examples.items()}
            ),
            skipped=MappingProxyType(dict(self.skipped)),
            skipped_examples=MappingProxyType(
                {k: tuple(v) for k, v in self.skipped_examples.items()}
            ),
            retries=self.retries,
            elapsed_s=elapsed_s,
        )


def _example(examples: dict[str, list[str]], reason: str, text: str) -> None:
    kept = examples.setdefault(reason, [])
    if len(kept) < EXAMPLES_PER_REASON:
        kept.append(text if len(text) <= 300 else text[:297] + "...")
