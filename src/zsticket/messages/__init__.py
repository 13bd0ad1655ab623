"""The API message table and the single call path that both wire protocols use."""
