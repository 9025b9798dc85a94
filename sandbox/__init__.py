"""A local stand-in for the Telegram Bot API, to run, test and benchmark newsbot offline."""

from sandbox.flood import FloodConfig
from sandbox.records import CallbackRecord, ChatMessage, SandboxChat, SandboxUser
from sandbox.server import SandboxServer
from sandbox.state import SandboxConfig, SandboxState

__all__ = [
    "CallbackRecord",
    "ChatMessage",
    "FloodConfig",
    "SandboxChat",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "SandboxUser",
]
