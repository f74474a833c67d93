"""Identity and access: registration, verification, sign-in, sessions, passwords, superusers."""
