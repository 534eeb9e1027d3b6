"""Outbound calls: provider calls the platform asks for and does not wait for (`runner.py` says how)."""
