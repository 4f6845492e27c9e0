"""Minimal stand-in for Apache Airflow (not installable here): only the framework base classes
the Census provider imports. The provider's own code, including its HTTP calls, runs unchanged."""
