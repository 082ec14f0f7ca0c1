"""Two deployments side by side (互认): A (银川市) issues health certificates, B (兰州市) recognises them.

Each has its own database (SQLite: two files; MariaDB: TEST_DATABASE_URL and the same name + "b"),
its own keys and deployment id. B reaches A's published trust list through `responses`, which hands
the request for https://a.example/… to A's test client: nothing leaves the process.
"""
import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
import responses
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app, crypto
from app.extensions import db
from app.models import Checkpoint, Worker
from app.models.base import utcnow
from app.services.accounts import staff
from app.services.credentials import certificates, signing, trust
from app.services.office.reference_data import load_reference_data
from app.services.people.identity import mask_id_number, mask_mobile
from tests.builders import STAFF_PASSWORD, auth, make_id_number, make_mobile
from tests.conftest import TEST_DATABASE_URL, _check_services, _drop_everything, _empty_tables, _test_config

A_URL = "https://a.example/api/checkin/v1/trust-list"
TRUST_LIST_PATH = "/api/checkin/v1/trust-list"


@pytest.fixture(scope="session")
def backend_b(backend, tmp_path_factory):
    """B's storage, beside the suite's backend: another SQLite file, or the MariaDB database named with a "b"."""
    if backend["BACKEND"] == "sqlite":
        path = tmp_path_factory.mktemp("db_b") / "b.db"
        settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "REDIS_URL": None}
    else:
        _check_services()
        url = sa.engine.make_url(TEST_DATABASE_URL)
        url_b = url.set(database=url.database + "b").render_as_string(hide_password=False)
        server = sa.create_engine(url.set(database=None))
        with server.begin() as connection:  # CI makes only the suite's database: B's is made here
            connection.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS `{url.database}b` "
                                       "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        server.dispose()
        _drop_everything(url_b)
        settings = {"SQLALCHEMY_DATABASE_URI": url_b, "REDIS_URL": os.environ.get("TEST_REDIS_URL")}
    settings["BACKEND"] = backend["BACKEND"]
    app = create_app(_test_config(settings))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return settings


@dataclass
class Deployment:
    """One deployment under test: its app and a test client."""

    app: Flask
    client: FlaskClient

    def ctx(self):
        """An app context of this deployment (the session is its database's)."""
        return self.app.app_context()

    def fingerprint(self):
        """The root fingerprint this deployment gives its partners."""
        with self.ctx():
            return trust.root_fingerprint()

    def checkpoint_officer(self, username="gate"):
        """Auth headers of a checkpoint officer at the first checkpoint; and the checkpoint id."""
        with self.ctx():
            checkpoint_id = db.session.scalar(sa.select(Checkpoint.id).order_by(Checkpoint.id).limit(1))
            staff.create_staff(username, STAFF_PASSWORD, "checkpoint_staff", checkpoint_id=checkpoint_id, by=staff.CLI)
        response = self.client.post("/api/console/v1/session", json={"username": username, "password": STAFF_PASSWORD})
        assert response.status_code == 201, response.json
        return auth(response.json["token"]), checkpoint_id


def _prepare(app):
    with app.app_context():
        load_reference_data()
        for purpose in ("trip", "certificate", "root"):
            signing.ensure_key(purpose)


@pytest.fixture
def deployments(make_app, backend_b):
    """(A, B): A is 银川市 (640100) on the suite's backend, B is 兰州市 (620100) on its own."""
    a_app = make_app(DEPLOYMENT_ID="640100", DEPLOYMENT_NAME="银川市")
    b_app = create_app(_test_config(backend_b, DEPLOYMENT_ID="620100", DEPLOYMENT_NAME="兰州市",
                                    DEPLOYMENT_COUNTIES=["620102"]))
    _prepare(a_app)
    _prepare(b_app)
    yield Deployment(a_app, a_app.test_client()), Deployment(b_app, b_app.test_client())
    with b_app.app_context():
        _empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def published(deployments):
    """`responses` intercepting HTTP, with A's trust list URL answered by A's test client."""
    a, _ = deployments
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        def from_a(request):
            answer = a.client.get(TRUST_LIST_PATH)
            return answer.status_code, {"Content-Type": "application/json"}, answer.data
        mock.add_callback(responses.GET, A_URL, callback=from_a)
        yield mock


def make_local_worker(deployment, n=0, name="张三丰", id_number=None):
    """A worker with a profile in a deployment's database (as the mini-program leaves one); returns its id."""
    with deployment.ctx():
        worker = Worker(openid=f"openid-{n}", name=name, consent_version="2020-02-v1", consent_at=utcnow())
        crypto.seal(worker, "id_number", id_number or make_id_number(sequence=200 + n), "worker.id_number",
                    mask_id_number, indexed=True)
        crypto.seal(worker, "mobile", make_mobile(n), "worker.mobile", mask_mobile, indexed=True)
        db.session.add(worker)
        db.session.commit()
        return worker.id


def issue(deployment, worker_id, county="640104", status="green", temperature="36.6"):
    """A certificate signed and stored by a deployment for one of its workers; returns (QR text, serial)."""
    from decimal import Decimal

    with deployment.ctx():
        worker = db.session.get(Worker, worker_id)
        basis = {"status": status, "observation": "none", "observation_until": None,
                 "check_temperature": Decimal(temperature), "check_at": utcnow() - timedelta(hours=2)}
        row = certificates.sign_and_store(worker, county, basis, "staff")
        db.session.commit()
        return row.text, row.id
