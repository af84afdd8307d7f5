"""liveeval: evaluate LLM products in production."""

__version__ = "0.1.0"
