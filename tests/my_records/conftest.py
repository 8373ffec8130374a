"""我的办理 fixtures: the loopback SMS endpoint and robot of the notification tests."""

from tests.notifications.conftest import channels, robot, sms  # noqa: F401
