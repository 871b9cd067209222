"""Blueprints, one per audience: reporter, handler, compliance, admin. Views stay thin."""
