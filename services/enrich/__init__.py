"""enrich: raw pages in, clean dated deduplicated article events out."""
