"""`runner.wait_until_ready`: when a started kernel counts as ready (no kernel needed).

A kernel is ready once it answered kernel_info on the shell channel and the client hears
its IOPub channel; otherwise the first cell's outputs could be lost. These fakes play the
kernel's side of the two channels.
"""

from __future__ import annotations

import asyncio
import queue

import pytest

from autograder.pipeline.runner import wait_until_ready


class _Channel:
    def __init__(self) -> None:
        self.messages: asyncio.Queue = asyncio.Queue()

    async def get_msg(self, timeout: float) -> dict:
        try:
            return await asyncio.wait_for(self.messages.get(), timeout)
        except asyncio.TimeoutError:
            raise queue.Empty from None


class _FakeClient:
    """A kernel that replies on shell to every request (unless not `replies`), and publishes
    their status on IOPub only once its subscription is up (`subscribed_after` requests);
    with `welcome`, it greets the subscription as ipykernel 7 does."""

    def __init__(self, *, alive=True, replies=True, subscribed_after=0, welcome=False):
        self.shell_channel, self.iopub_channel = _Channel(), _Channel()
        self.alive, self.replies = alive, replies
        self.subscribed_after, self.welcome = subscribed_after, welcome
        self.requests: list[str] = []

    def kernel_info(self) -> str:
        msg_id = f"req{len(self.requests)}"
        self.requests.append(msg_id)
        if self.replies:
            parent = {"msg_id": msg_id}
            reply = {
                "msg_type": "kernel_info_reply",
                "parent_header": parent,
                "content": {"language_info": {"name": "python"}},
            }
            self.shell_channel.messages.put_nowait(reply)
            if len(self.requests) > self.subscribed_after:
                if self.welcome and len(self.requests) == self.subscribed_after + 1:
                    self.iopub_channel.messages.put_nowait(
                        {"msg_type": "iopub_welcome", "parent_header": {}}
                    )
                for state in ("busy", "idle"):
                    self.iopub_channel.messages.put_nowait(
                        {
                            "msg_type": "status",
                            "parent_header": parent,
                            "content": {"execution_state": state},
                        }
                    )
        return msg_id

    async def is_alive(self) -> bool:
        return self.alive


def _ready(kc: _FakeClient, timeout: float = 5.0) -> dict:
    return asyncio.run(wait_until_ready(kc, timeout))


@pytest.mark.parametrize("welcome", [True, False])
def test_a_kernel_heard_at_once_is_ready_after_one_request(welcome: bool) -> None:
    kc = _FakeClient(welcome=welcome)
    reply = _ready(kc)
    assert reply["parent_header"]["msg_id"] == "req0" and kc.requests == ["req0"]
    assert reply["content"]["language_info"]["name"] == "python"


def test_a_late_iopub_subscription_is_waited_for_with_a_new_request() -> None:
    """The first request's status went out before the client subscribed: it is never heard,
    so the client asks again rather than trust an IOPub channel it has not heard."""
    kc = _FakeClient(subscribed_after=1)
    reply = _ready(kc)
    assert kc.requests == ["req0", "req1"] and reply["parent_header"]["msg_id"] == "req0"


def test_a_welcome_alone_proves_the_subscription() -> None:
    kc = _FakeClient(subscribed_after=1, welcome=True)
    _ready(kc)
    assert kc.requests == ["req0", "req1"]


def test_a_dead_kernel_is_reported() -> None:
    with pytest.raises(RuntimeError, match="died"):
        _ready(_FakeClient(alive=False, replies=False))


def test_a_silent_kernel_times_out() -> None:
    with pytest.raises(RuntimeError, match=r"didn.t respond in 0\.5 seconds"):
        _ready(_FakeClient(replies=False), timeout=0.5)
    with pytest.raises(RuntimeError, match="didn't respond"):  # replies, never heard on IOPub
        _ready(_FakeClient(subscribed_after=10**6), timeout=0.6)
