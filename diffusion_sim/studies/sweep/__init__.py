"""Batch sweeps: many runs of one scenario, on local cores or a Dask cluster.

- :mod:`~diffusion_sim.studies.sweep.spec`: the sweep file (TOML) and its validation;
- :mod:`~diffusion_sim.studies.sweep.design`: grid, random, LHS, Sobol and Morris designs,
  and seeds;
- :mod:`~diffusion_sim.studies.sweep.runner`: batches on Dask, Parquet parts, resume;
- :mod:`~diffusion_sim.studies.sweep.analyze`: SALib indices, main effects, PRIM, the report.

Nothing heavy is imported here: Dask, SALib and EMA Workbench load when used.
"""
