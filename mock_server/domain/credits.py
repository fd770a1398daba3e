"""Account balances, and what happens when the credits run out (what a job costs is in `kinds`).

A key without a balance is unlimited unless ``--credits`` gives every key a
starting balance. A create that costs more than the balance answers 401, the status the skill
documents for "insufficient credits"; the message text is the mock's choice (undocumented).
"""

from __future__ import annotations

import threading

from mock_server.contract.problems import HttpError

INSUFFICIENT = "Insufficient credits"


class Credits:
    """Per-API-key balances (thread-safe). None means unlimited."""

    def __init__(self, initial: int | None = None) -> None:
        self.initial = initial
        # Whether some key may have a finite balance; while not, no create need be charged (see `charge`).
        self.limited = initial is not None
        self._lock = threading.Lock()
        self._balances: dict[str, int | None] = {}
        self._set_by_scenario: dict[str, int] = {}

    def balance(self, account: str) -> int | None:
        """The key's balance now (None: unlimited)."""
        with self._lock:
            return self._balances.get(account, self.initial)

    def set(self, account: str, balance: int | None) -> None:
        """Set the key's balance (None: unlimited)."""
        if balance is not None and (isinstance(balance, bool) or not isinstance(balance, int) or balance < 0):
            raise ValueError(f"balance has value {balance!r}; it must be an integer >= 0 or null (unlimited).")
        with self._lock:
            self._balances[account] = balance
            self.limited = self.limited or balance is not None

    def apply_scenario(self, account: str, balance: int) -> bool:
        """The ``credits:<n>`` scenario: set the balance, but only when `balance` differs from the last one it set.

        So a client that sends the same header on every request spends its credits instead of refilling them.
        Returns whether the balance was set.
        """
        with self._lock:
            if self._set_by_scenario.get(account) == balance:
                return False
            self._set_by_scenario[account] = balance
            self._balances[account] = balance
            self.limited = True
            return True

    def charge(self, account: str, amount: int) -> int | None:
        """Take `amount` from the key's balance, or raise the 401 the real API sends when credits run out.

        Returns the balance left (None: unlimited).
        """
        with self._lock:
            balance = self._balances.get(account, self.initial)
            if balance is None:
                return None
            if balance < amount:
                raise HttpError(401, INSUFFICIENT)
            self._balances[account] = balance - amount
            return balance - amount

    def snapshot(self) -> dict[str, int | None]:
        """Every key with an explicit balance."""
        with self._lock:
            return dict(self._balances)

    def reset(self) -> None:
        """Forget every balance: each key starts again at the initial one."""
        with self._lock:
            self._balances.clear()
            self._set_by_scenario.clear()
            self.limited = self.initial is not None
