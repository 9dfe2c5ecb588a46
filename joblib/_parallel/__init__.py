"""Implementation of Parallel: configuration, batching, dispatch, results."""
