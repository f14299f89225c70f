"""Data access: all SQL lives here, one module per entity, parameters only."""
