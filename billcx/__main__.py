"""``python -m billcx``."""

from billcx.cli import main

main()
