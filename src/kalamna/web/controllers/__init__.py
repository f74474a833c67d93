"""HTTP controllers, one module per capability."""
