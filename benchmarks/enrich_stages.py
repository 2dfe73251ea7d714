"""Where offline enrich spends its time: CPU seconds per stage over generated text pages.

    python -m benchmarks.enrich_stages [--pages 1000] [--seed 7]

Runs each pure stage of the core over the same pages in one process (caches warm after the
split stage, as in a long run) and prints process CPU seconds per stage, plus the share of
articles whose detected language is the one the generator wrote them in.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks.corpus import generate_pages
from schemas import RawPage
from services.enrich.articles import _languages, _published
from services.enrich.dedupe import Deduper, InMemoryDedupeStore
from services.enrich.fingerprint import ArticleText, make_fingerprints
from services.enrich.language import load_language_model
from services.enrich.settings import EnrichSettings
from services.enrich.split import split_text_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generated = generate_pages(args.pages, seed=args.seed)
    pages = [RawPage.model_validate(g.page) for g in generated]
    clock = time.process_time
    started = clock()
    load_language_model(EnrichSettings().model_cache_dir)
    print(f"model load   {clock() - started:6.3f} s  (language model, through the cache)")

    started = clock()
    drafts = [split_text_page(page.body) for page in pages]
    print(f"split        {clock() - started:6.3f} s")
    started = clock()
    languages = [_languages(d) if d else [] for d in drafts]
    print(f"language     {clock() - started:6.3f} s")
    started = clock()
    for page, found in zip(pages, drafts, strict=True):
        for draft in found:
            _published(draft, page)
    print(f"times        {clock() - started:6.3f} s")
    started = clock()
    fingerprints = make_fingerprints(
        [
            ArticleText(d.title, d.body, f"{p.page_id}#{i}", p.fetched_at)
            for p, found in zip(pages, drafts, strict=True)
            for i, d in enumerate(found)
        ]
    )
    print(f"fingerprint  {clock() - started:6.3f} s  ({len(fingerprints)} articles)")
    started = clock()
    asyncio.run(Deduper(InMemoryDedupeStore()).judge(fingerprints))
    print(f"dedupe       {clock() - started:6.3f} s")

    right = total = 0
    for page_languages, truth, found in zip(languages, generated, drafts, strict=True):
        if len(found) != len(truth.articles):
            continue  # a split miss; the split tests count those
        for language, expected in zip(page_languages, truth.articles, strict=True):
            total += 1
            right += language == expected.language
    print(f"language right for {right}/{total} articles")


if __name__ == "__main__":
    main()
