"""``python -m mock_server`` is the ``flux-mock`` command."""

from mock_server.run.cli import main

main()
