"""deploy/systemd's sender units run `flask notify run` as the service does, and stop it gently."""
import pytest

from tests.test_deploy import unit


@pytest.mark.parametrize("name", ["fangang-notify.service", "fangang-notify@.service"])
def test_sender_units_run_the_sender_like_the_app_and_stop_it_with_sigterm(name):
    sender, app = unit(name), unit("fangang.service")
    assert sender[("Service", "ExecStart")] == "/opt/fangang/.venv/bin/flask --app wsgi notify run"
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile"):
        assert sender[("Service", key)] == app[("Service", key)]
    # SIGTERM lets it finish the message in hand; the stop timeout outlasts one send (WECHAT_TIMEOUT, 5 s).
    assert sender[("Service", "KillSignal")] == "SIGTERM" and int(sender[("Service", "TimeoutStopSec")]) >= 15
    assert sender[("Service", "Restart")] == "always"
    assert sender[("Install", "WantedBy")] == "multi-user.target"
