"""SAQ task entry points: they load ids, call the same use cases as the web edge."""
