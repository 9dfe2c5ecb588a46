"""Implementation of Memory: call identity, code tracking, cached calls, reporting."""
