"""Password hashing (argon2id), access tokens (PyJWT), random secrets and their digests."""
