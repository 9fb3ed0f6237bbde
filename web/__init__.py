"""The staff console and HTTP API (FastAPI): every module of the business plugs in here."""
