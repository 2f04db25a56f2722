"""The model: what a run reads (setup, events, ties, governments) and what it writes (trajectory).

The mechanisms it runs are one layer below, in :mod:`diffusion_sim.mechanisms`.
"""
