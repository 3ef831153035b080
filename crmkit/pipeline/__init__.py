"""Pipeline steps: LazyFrame in, LazyFrame out (`clean` parses and validates raw source frames)."""
