"""Sources: reading export files (CSV/XLSX/Parquet) and mapping them to the canonical schema."""
