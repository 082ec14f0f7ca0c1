"""What a newcomer trips over (issue 11, §6): dates, command-line answers, the verifier's answers, key names."""
import base64
import json
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint, SigningKey, StaffUser
from app.services.credentials import signing
from app.services.platform.timeutil import local_today
from checkin import offline as offline_cli
from tests.builders import approved_applications, make_staff, publish_trip
from tests.checkin.test_offline import bundle_of, save_keys
from tests.console.test_plans import plan_body
from tests.test_errors import assert_error

PASSWORD = "a-long-enough-password"


# --- dates given by a UTC clock ------------------------------------------------------


def test_plan_from_yesterday_is_refused_naming_the_field_and_beijing_today(client):
    staff_headers = make_staff(client)
    approved_applications(client, staff_headers, 1)
    yesterday = local_today() - timedelta(days=1)
    response = client.post("/api/console/v1/plans", json=plan_body(date_from=yesterday.isoformat()),
                           headers=staff_headers)
    error = assert_error(response, 422, "validation_error")
    assert "date_from" in error["fields"] and local_today().isoformat() in error["fields"]["date_from"]
    assert "北京时间" in error["message"]
    # Nothing was planned on the quiet: the same request from today is the first plan.
    response = client.post("/api/console/v1/plans", json=plan_body(), headers=staff_headers)
    assert response.status_code == 201 and response.json["date_from"] == local_today().isoformat()


def test_application_before_today_names_beijing_today(client):
    from tests.builders import application, make_worker

    worker = make_worker(client)
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    response = client.post("/api/mp/v1/applications", json=application(earliest_departure=yesterday), headers=worker)
    error = assert_error(response, 422, "validation_error")
    assert local_today().isoformat() in error["fields"]["earliest_departure"]


# --- staff create ------------------------------------------------------------------


def test_staff_create_with_an_unset_password_variable_says_so(app, monkeypatch):
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    result = app.test_cli_runner().invoke(args=["staff", "create", "yn1", "--role", "county_operator", "--county",
                                                "640121", "--password-env", "NO_SUCH_PASSWORD_VAR"])
    assert result.exit_code == 2
    assert "NO_SUCH_PASSWORD_VAR" in result.output and "is not set" in result.output
    assert "密码至少" not in result.output
    monkeypatch.setenv("EMPTY_PASSWORD_VAR", "")
    result = app.test_cli_runner().invoke(args=["staff", "create", "yn1", "--role", "county_operator", "--county",
                                                "640121", "--password-env", "EMPTY_PASSWORD_VAR"])
    assert result.exit_code == 2 and "is empty" in result.output
    assert db.session.scalar(select(StaffUser).where(StaffUser.username == "yn1")) is None


def test_staff_create_names_the_options_the_operator_typed(app, monkeypatch):
    monkeypatch.setenv("P", PASSWORD)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "yn2", "--role", "county_operator", "--password-env", "P"])
    assert result.exit_code == 1 and "--county" in result.output and "county_code" not in result.output
    result = runner.invoke(args=["staff", "create", "yn2", "--role", "county_operator", "--county", "999999",
                                 "--password-env", "P"])
    assert result.exit_code == 1 and "--county" in result.output
    monkeypatch.setenv("P", "short")
    result = runner.invoke(args=["staff", "create", "yn2", "--role", "admin", "--password-env", "P"])
    assert result.exit_code == 1 and "10" in result.output


def test_checkpoint_staff_by_checkpoint_code(app, monkeypatch):
    monkeypatch.setenv("P", PASSWORD)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "toll", "--role", "checkpoint_staff", "--checkpoint",
                                 "yinchuan-south-toll", "--password-env", "P"])
    assert result.exit_code == 0, result.output
    expected = db.session.scalar(select(Checkpoint.id).where(Checkpoint.code == "yinchuan-south-toll"))
    assert db.session.scalar(select(StaffUser.checkpoint_id).where(StaffUser.username == "toll")) == expected
    result = runner.invoke(args=["staff", "create", "toll2", "--role", "checkpoint_staff", "--checkpoint",
                                 "nowhere", "--password-env", "P"])
    assert result.exit_code == 2 and "yinchuan-railway" in result.output  # lists the codes there are


# --- keys ------------------------------------------------------------------------------


def test_keys_list_says_which_key_signs(app):
    runner = app.test_cli_runner()
    first = signing.ensure_key()
    second = signing.rotate_key()
    lines = runner.invoke(args=["keys", "list"]).output.splitlines()
    by_kid = {line.split()[0]: line for line in lines}
    assert "SIGNS" in by_kid[second.kid] and "SIGNS" not in by_kid[first.kid]
    assert "verifies only" in by_kid[first.kid]
    signing.retire_key(second.kid)
    lines = runner.invoke(args=["keys", "list"]).output.splitlines()
    by_kid = {line.split()[0]: line for line in lines}
    assert "retired" in by_kid[second.kid] and "SIGNS" in by_kid[first.kid]


def test_keys_and_bundle_name_a_retired_key_alike(client):
    trip = publish_trip(client, passengers=2)
    keys = client.get("/api/checkin/v1/keys").json["keys"]
    bundle = bundle_of(client, trip)
    assert {frozenset(key) - {"valid_from"} for key in keys} == {frozenset(key) for key in bundle["keys"]}
    assert all("retired_at" in key and "valid_until" not in key for key in keys)
    db.session.execute(SigningKey.__table__.update().values(retired_at=db.func.now()))
    db.session.commit()
    retired = client.get("/api/checkin/v1/keys").json["keys"]
    assert all(key["retired_at"].endswith("+08:00") for key in retired)


def test_verifier_still_reads_a_trust_list_saved_with_valid_until(client, tmp_path, capsys):
    trip = publish_trip(client, passengers=2)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle_of(client, trip), ensure_ascii=False), encoding="utf-8")
    old = client.get("/api/checkin/v1/keys").json
    for key in old["keys"]:  # what GET /keys answered before the field was renamed
        key["valid_until"] = key.pop("retired_at")
    keys = tmp_path / "old-keys.json"
    keys.write_text(json.dumps(old), encoding="utf-8")
    qr = client.get(f"/api/mp/v1/trips/{trip['trip']['id']}/qrcode", headers=trip["riders"][0]["headers"]).json
    assert offline_cli.main([str(path), qr["text"], "--keys", str(keys), "--temperature", "36.5"]) == 0
    old["keys"][0]["valid_until"] = "2020-02-24T00:00:00+08:00"  # retired: its bundles are not trusted
    keys.write_text(json.dumps(old), encoding="utf-8")
    capsys.readouterr()
    assert offline_cli.main([str(path), qr["text"], "--keys", str(keys)]) == 3


# --- the offline verifier given something else ------------------------------------------


def _verify(tmp_path, bundle_text, keys_path):
    path = tmp_path / "bundle.json"
    path.write_text(bundle_text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "checkin.offline", str(path), "FG1:X", "--keys", keys_path],
                          capture_output=True, text=True, check=False)
    return done.returncode, json.loads(done.stdout)


def test_verifier_given_a_saved_error_answer_says_what_it_got(client, tmp_path):
    trip = publish_trip(client, passengers=2)
    keys = save_keys(client, tmp_path)
    # `curl -o bundle.json` with an expired token saves this, not a bundle.
    answer = client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/offline-bundle")
    assert answer.status_code == 401
    code, said = _verify(tmp_path, answer.get_data(as_text=True), keys)
    assert code == 3 and said["error"] == "server_error_saved"
    assert "unauthorized" in said["message"] and "签名无效" not in said["message"]
    code, said = _verify(tmp_path, "<html>502</html>", keys)
    assert code == 3 and said["error"] == "not_json"
    code, said = _verify(tmp_path, json.dumps({"trip": {}}), keys)
    assert code == 3 and said["error"] == "not_a_bundle" and "manifest" in said["message"]
    # A trust list that is an error answer is named as such too.
    bad_keys = tmp_path / "keys-error.json"
    bad_keys.write_text(json.dumps({"error": {"code": "unavailable", "message": "服务暂时不可用"}}), encoding="utf-8")
    code, said = _verify(tmp_path, json.dumps(bundle_of(client, trip)), str(bad_keys))
    assert code == 3 and said["error"] == "server_error_saved" and "公钥列表" in said["message"]


def test_verifier_still_says_a_tampered_bundle_is_unsigned(client, tmp_path):
    trip = publish_trip(client, passengers=2)
    bundle = bundle_of(client, trip)
    bundle["revocations"].append(12345)
    code, said = _verify(tmp_path, json.dumps(bundle), save_keys(client, tmp_path))
    assert code == 3 and said["error"] == "bundle_signature_invalid"


def test_public_keys_in_the_trust_list_are_base64_of_32_bytes(client):
    signing.ensure_key()
    for key in client.get("/api/checkin/v1/keys").json["keys"]:
        assert len(base64.b64decode(key["public_key"])) == 32


def test_verifier_reads_a_naive_scan_time_as_beijing_time():
    from datetime import UTC, datetime

    assert offline_cli._moment("2020-02-24T08:00:00") == datetime(2020, 2, 24, 0, 0, tzinfo=UTC)
    assert offline_cli._moment("2020-02-24T00:00:00Z") == datetime(2020, 2, 24, 0, 0, tzinfo=UTC)
