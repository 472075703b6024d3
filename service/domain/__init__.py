"""Domain logic of the service, one module per area; route handlers call these."""
