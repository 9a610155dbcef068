"""AWS adapters: one small module per service, each translating ClientError."""
