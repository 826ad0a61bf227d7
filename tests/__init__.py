"""Tests of the citizen-services assistant."""
