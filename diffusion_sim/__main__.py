"""``python -m diffusion_sim`` is the CLI."""

import sys

from diffusion_sim.cli import main

sys.exit(main())
