"""GraphQL types per domain; `schema.root` assembles the federated schema."""
