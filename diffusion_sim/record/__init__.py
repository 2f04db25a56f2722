"""What a run writes and how it is read back: tables, outcomes, results on disk."""
