"""The test suite's fake credentials and well-known ids, in one place."""

from __future__ import annotations

#: The bot token every test bot uses (the sandbox accepts any well-formed token).
BOT_TOKEN = "123456789:AAFakeNewsbotTestToken-0123456789abcdef"
#: The newsroom API's bearer token in the tests (long enough for the start-up check).
API_TOKEN = "s3cret-newsroom-token-for-tests-0123456789"
#: The Authorization header that carries it.
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
#: The editor of the test newsroom (NEWSBOT_ADMIN_IDS); also the sandbox tests' one user.
ADMIN_ID = 1001
#: The user the sandbox tests talk to (the ``sandbox_user`` fixture adds them).
SANDBOX_USER = ADMIN_ID
#: The bot's @username in the end-to-end sandbox.
BOT_USERNAME = "newsbot_sandbox_bot"
#: Seconds any single event-based expectation may take (a passing test rarely waits).
TIMEOUT = 15.0
