"""Standards-drafting knowledge assistant: clause-level RAG over Chinese standards, laws and policy."""

__version__ = "0.1.0"
