"""Business rules and transactions: what the app guarantees, whatever the transport."""
