"""The delivery engine: a durable Redis queue, a shared rate limiter and concurrent workers."""
