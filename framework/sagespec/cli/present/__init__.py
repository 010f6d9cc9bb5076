"""How results are shown to people: rich tables and live views (JSON output needs none of this)."""
