"""Studies built on runs: comparisons, Kern's modes, calibration, estimation, export, sweeps."""
