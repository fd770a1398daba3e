"""The live dashboard at ``/__mock/ui``: server-rendered pages, a small script, and a Server-Sent Events feed.

`mount` (the route table; the rest is imported on the first dashboard request), `routes` (the pages, assets
and feed), `page` (the HTML), `stream` (the batched feed from the journals' subscriptions) and `views` (what
each view shows, computed from the services at one instant). The script and stylesheet are package data in
``static/``; there is no build step and nothing is loaded from elsewhere.
"""

from __future__ import annotations

from mock_server.web.dashboard.mount import dashboard_routes, is_shell

__all__ = ["dashboard_routes", "is_shell"]
