"""``python -m oneiros_client`` = the ``oneiros`` command."""

import sys

from .cli import main

sys.exit(main())
