import atexit
import os
import sys
import threading

from analytics.cli import main

code = main()
# Leave without tearing the interpreter down once the command is done: unloading Polars,
# DuckDB, NumPy and SciPy took 0.1 s of `kpis --period quarter`'s 0.9 s. The output is
# flushed and the exit handlers run first; with a thread still working, exit as usual.
if threading.active_count() == 1:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: the usual exit reports it
        raise SystemExit(code) from None
    atexit._run_exitfuncs()
    os._exit(code)
raise SystemExit(code)
