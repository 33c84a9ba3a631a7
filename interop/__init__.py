"""Exchanges with other tools' files: NATS-Bench archives in, NAS-Bench-Suite-Zero in and out."""
