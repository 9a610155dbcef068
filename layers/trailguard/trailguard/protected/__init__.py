"""One module per protected thing: each owns its guard, read, repair and verification."""
