"""Test doubles that speak real wire protocols (servers on 127.0.0.1), for adapters under test."""
