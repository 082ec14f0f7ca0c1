"""The messaging tests' app: subscribe-message templates configured (WeChat itself is not: dev logins work)."""
import pytest

from app.services.office.reference_data import load_reference_data
from tests.messaging.helpers import TEMPLATE_IDS


@pytest.fixture
def app(make_app):
    """The app with template ids configured and reference data loaded, inside an app context."""
    app = make_app(WECHAT_TEMPLATES=TEMPLATE_IDS)
    with app.app_context():
        load_reference_data()
        yield app
