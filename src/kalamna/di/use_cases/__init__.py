"""Use cases of the application layer, one module per capability. REQUEST scope (one unit of work per
request or job) unless a use case holds no request state and is shared: then APP scope."""
