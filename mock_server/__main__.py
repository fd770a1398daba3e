"""``python -m mock_server`` is the ``flux-mock`` command."""

from mock_server.cli import main

main()
