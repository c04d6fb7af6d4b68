"""gapcheck test suite."""
