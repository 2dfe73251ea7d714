"""Export the contract's JSON Schema files (`python -m schemas.export`)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.models import ArticleEvent, DeadLetter, RawPage

MODELS: tuple[type[BaseModel], ...] = (RawPage, ArticleEvent, DeadLetter)
SCHEMA_DIR = Path(__file__).parent / "json"


def schema_files() -> dict[str, str]:
    """File name -> JSON text for every model of the contract."""
    return {
        f"{model.__name__}.schema.json": json.dumps(
            model.model_json_schema(mode="serialization"), indent=2, ensure_ascii=False
        )
        + "\n"
        for model in MODELS
    }


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in schema_files().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
        print(SCHEMA_DIR / name)


if __name__ == "__main__":
    main()
