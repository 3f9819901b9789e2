"""`python -m ruleengine` runs the command line."""

import sys

from ruleengine.cli import main

sys.exit(main())
