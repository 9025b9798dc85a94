"""Operations: Prometheus metrics, liveness and readiness, and their HTTP views."""
