"""``python -m diffusion_sim`` is the CLI."""

import sys

try:
    from diffusion_sim.cli import entry_point
except KeyboardInterrupt:  # Ctrl-C while the modules load: one line, no traceback
    sys.stderr.write("interrupted\n")
    exec("pass")  # exit with 130, not by SIGINT (cli.forget_interrupt says why)
    sys.exit(130)

entry_point()
