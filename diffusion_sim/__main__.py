"""``python -m diffusion_sim`` is the CLI."""

import sys

from diffusion_sim.cli.interrupts import deliver_ignored_interrupts, forget_interrupt

deliver_ignored_interrupts()  # a Ctrl-C while the modules load is never dropped
try:
    from diffusion_sim.cli import entry_point
except KeyboardInterrupt:  # Ctrl-C while the modules load: one line, no traceback
    sys.stderr.write("interrupted\n")
    forget_interrupt()  # exit with 130, not by SIGINT (cli_interrupts says why)
    sys.exit(130)

entry_point()
