"""Implementation of dump/load: options parsing, array I/O, compressed files."""
