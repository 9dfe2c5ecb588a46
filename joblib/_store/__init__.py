"""Storage mechanics shared by Memory stores: atomic writes, scans, eviction."""
