"""The engines that step a run: vectorized (numpy and numba) and agents (Mesa)."""
