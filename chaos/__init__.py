"""The chaos soak (``make chaos``): workers killed and PostgreSQL restarted under load, then every invariant checked."""
