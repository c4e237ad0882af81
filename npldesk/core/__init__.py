"""The framework-free vocabulary every layer shares: money, months, loan classes, errors.

Imports only the standard library, so the same definitions serve the tape importer, the Ibis
analytics, the Django casework and a notebook alike.
"""
