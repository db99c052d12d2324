"""Benchmarks of the WebThings server against a bare Quart endpoint (``python -m bench``)."""
