"""The compiled read path: queries answered from a cached plan (docs/architecture.md)."""
