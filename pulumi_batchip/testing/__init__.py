"""Test your own Pulumi stacks that use pulumi-batchip, offline.

- :class:`BatchIpMocks`: a ``pulumi.runtime.Mocks`` that runs our real ``check`` (a bad
  input fails your test with the message ``pulumi up`` would print) and answers with
  realistic outputs, or, given an emulator, really creates the resources through the
  provider against it.
- The pytest fixtures (registered as a ``pytest11`` plugin): ``batchip_mocks``, offline
  mocks set for one test; ``batchip_emulator``, a running emulator with the
  environment pointing at it, for the test's duration.
"""

from __future__ import annotations

from .mocks import BatchIpMocks, InputCheckFailed

__all__ = ["BatchIpMocks", "InputCheckFailed"]
