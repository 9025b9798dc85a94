"""``python -m bot`` does what the ``newsbot`` command does."""

from bot.cli import main

raise SystemExit(main())
