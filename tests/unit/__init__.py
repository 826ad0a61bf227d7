"""Fast tests, laid out as the source tree; none starts the whole assistant."""
