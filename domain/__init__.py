"""Pure business layer: pydantic models, enums, names and rules. No I/O.

Everything here is safe to import inside the Temporal workflow sandbox.
"""
