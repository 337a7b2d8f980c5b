"""Cross-cutting worker behaviour: job log context and process resources."""
