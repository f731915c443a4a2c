"""``python -m bot.workshops``: see :mod:`bot.workshops.cli`."""

from bot.workshops.cli import main

raise SystemExit(main())
