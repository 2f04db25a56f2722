"""The model: the mechanisms, what a run reads (setup, events, ties) and writes."""
