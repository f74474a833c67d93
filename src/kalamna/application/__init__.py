"""Use cases: orchestrate the domain through ports. One module per capability."""
