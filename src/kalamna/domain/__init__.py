"""The pure core: entities, value objects, policies and domain errors. Standard library only."""
