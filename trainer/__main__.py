"""`python -m trainer`: the command line (trainer.cli)."""
import sys

from trainer.cli import main

sys.exit(main())
