"""Where a server's state lives: one `Store` interface, kept in this process (`memory`) or in Redis (`redis`).

The HTTP layer reads and changes state only through the store; `services.open_store` picks the implementation
from ``--store``.
"""

from mock_server.stores.base import Store
from mock_server.stores.memory import MemoryStore

__all__ = ["MemoryStore", "Store"]
