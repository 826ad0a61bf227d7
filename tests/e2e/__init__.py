"""Tests against the whole assistant started for real (marked e2e)."""
