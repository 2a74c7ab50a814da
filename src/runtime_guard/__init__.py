"""Runtime guard: catch sync ORM use and event-loop blocking in async Django as it happens."""
