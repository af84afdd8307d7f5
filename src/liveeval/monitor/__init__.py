"""Monitoring: windows, SLIs, drift, alert rules, notifiers and Prometheus metrics."""
