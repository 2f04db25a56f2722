"""``python -m diffusion_sim`` is the CLI."""

import sys

try:  # a Ctrl-C while the modules load (even the first): one line, no traceback
    from diffusion_sim.cli.interrupts import deliver_ignored_interrupts, forget_interrupt

    deliver_ignored_interrupts()  # a Ctrl-C while the modules load is never dropped
    from diffusion_sim.cli import entry_point
except KeyboardInterrupt:
    sys.stderr.write("interrupted\n")
    if "forget_interrupt" in globals():
        forget_interrupt()  # exit with 130, not by SIGINT (cli/interrupts.py says why)
    else:
        exec("pass")  # the same reset, before cli.interrupts could load
        sys.unraisablehook = lambda unraisable: None
    sys.exit(130)

entry_point()
