"""The PDF report of a study."""
