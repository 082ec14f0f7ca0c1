"""The MariaDB half of the suite hands out ids as a 3-node Galera cluster does, so no test leans on contiguous ids."""
from sqlalchemy import text

from app.extensions import db
from app.models import AuditLog


def test_ids_skip_on_mariadb_as_on_the_cluster(app, backend):
    rows = [AuditLog(actor_kind="system", actor_id=None, action="test.ids", object_type="test") for _ in range(3)]
    for row in rows:
        db.session.add(row)
        db.session.flush()
    db.session.commit()
    steps = {b.id - a.id for a, b in zip(rows, rows[1:])}
    assert steps == ({3} if backend["BACKEND"] == "mariadb" else {1})
    if backend["BACKEND"] == "mariadb":
        wsrep = db.session.execute(text("SHOW VARIABLES LIKE 'wsrep_on'")).first()
        if wsrep is None or wsrep[1] != "ON":  # on a cluster the node's own offset applies (wsrep_auto_increment_control)
            assert all(row.id % 3 == 2 for row in rows)  # auto_increment_offset=2, as on a cluster's second node
