"""The roof's integrations: domain events become webhook deliveries; the sign-up age gate."""
