"""The catalog as other code uses it, and operator files that must stop the server with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tenantry.errors import InvalidRequest, ToolkitNotFound
from tenantry.toolkits.catalog import AuthMode, CatalogError, load_catalog
from tests.toolkits.helpers import BUILTIN_ORDER

ACME = """
[toolkits.acme]
name = "Acme"
base_url = "https://api.acme.example"
auth_schemes = [{ mode = "OAUTH2" }]
[toolkits.acme.oauth2]
authorize_url = "https://acme.example/authorize"
token_url = "https://acme.example/token"
"""


def write(tmp_path: Path, text: str, name: str = "toolkits.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def catalog_error(path: Path) -> str:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return str(caught.value)


class TestBuiltinCatalog:
    def test_order_and_lookup(self) -> None:
        catalog = load_catalog()
        assert [toolkit.slug for toolkit in catalog.all()] == BUILTIN_ORDER
        assert catalog.get("GitHub") is catalog.get("github") is not None
        assert catalog.get("nosuchtoolkit") is None
        with pytest.raises(ToolkitNotFound) as caught:
            catalog.require("nosuchtoolkit")
        assert caught.value.status == 404 and "nosuchtoolkit" in caught.value.message

    def test_every_oauth2_toolkit_has_https_endpoints(self) -> None:
        for toolkit in load_catalog():
            if toolkit.oauth2 is None:
                continue
            assert toolkit.oauth2.authorize_url.startswith("https://"), toolkit.slug
            assert toolkit.oauth2.token_url.startswith("https://"), toolkit.slug
            assert toolkit.scheme(AuthMode.OAUTH2) is not None

    def test_google_toolkits_use_pkce_and_offline_access(self) -> None:
        catalog = load_catalog()
        for slug in ("gmail", "googlecalendar"):
            oauth2 = catalog.require(slug).oauth2
            assert oauth2 is not None and oauth2.pkce and oauth2.authorize_params["access_type"] == "offline"

    def test_scheme_lookup(self) -> None:
        twilio = load_catalog().require("twilio")
        assert twilio.scheme("OAUTH2") is None
        basic = twilio.scheme(AuthMode.BASIC)
        assert basic is not None and basic.secret_field_names == {"password"}
        assert basic.field("username") is not None and basic.field("username").display_name == "Account SID"
        assert twilio.base_url_for("BASIC") == "https://api.twilio.com/2010-04-01"
        assert load_catalog().require("jira").base_url_for("BASIC") == "https://{subdomain}.atlassian.net"

    def test_no_builtin_toolkit_has_a_managed_app(self) -> None:
        github = load_catalog().require("github")
        assert github.managed_modes == ()
        with pytest.raises(InvalidRequest) as caught:
            github.require_managed_app()
        assert caught.value.status == 400
        assert "github" in caught.value.message and "use_composio_managed_auth" in caught.value.message


class TestOperatorFile:
    def test_managed_app_secret_is_opaque(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            ACME + '[toolkits.acme.managed_app]\nclient_id = "cid"\nclient_secret = "very-secret-value"\n',
        )
        acme = load_catalog(path).require("acme")
        app = acme.require_managed_app()
        assert app.client_id == "cid" and app.client_secret.get_secret_value() == "very-secret-value"
        assert "very-secret-value" not in repr(acme) and "very-secret-value" not in str(acme.model_dump())
        assert acme.managed_modes == (AuthMode.OAUTH2,) and acme.origin == "operator"

    def test_json_works_too(self, tmp_path: Path) -> None:
        document = {
            "toolkits": {
                "acme": {
                    "name": "Acme",
                    "auth_schemes": [{"mode": "API_KEY"}],
                    "created_at": "2026-01-02T03:04:05Z",
                },
                "openai": {"enabled": False},
            }
        }
        catalog = load_catalog(write(tmp_path, json.dumps(document), "toolkits.json"))
        assert catalog.get("openai") is None
        acme = catalog.require("acme")
        assert [field.name for field in acme.scheme("API_KEY").connection_fields] == ["api_key"]
        assert acme.created_at.isoformat() == "2026-01-02T03:04:05+00:00"

    def test_secrecy_is_inferred_from_the_name_unless_stated(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            """
[toolkits.acme]
name = "Acme"
auth_schemes = [{ mode = "API_KEY", connection_fields = [
  { name = "refresh_token", display_name = "Refresh token" },
  { name = "client_id", display_name = "Client ID" },
  { name = "account", display_name = "Account" },
  { name = "pin", display_name = "PIN", is_secret = true },
  { name = "public_token", display_name = "Public token", is_secret = false },
] }]
""",
        )
        scheme = load_catalog(path).require("acme").scheme("API_KEY")
        assert scheme.secret_field_names == {"refresh_token", "pin"}

    def test_the_documented_example_loads(self, tmp_path: Path) -> None:
        document = (Path(__file__).parents[2] / "docs" / "toolkits.md").read_text()
        example = document.split("## A complete example")[1].split("```toml")[1].split("```")[0]
        catalog = load_catalog(write(tmp_path, example))
        assert catalog.get("openai") is None and catalog.require("sendgrid").deprecated
        crm = catalog.require("acme_crm")
        assert crm.managed_scopes == ("contacts.read", "offline_access") and len(crm.tools) == 1
        assert catalog.require("gmail").managed_modes == (AuthMode.OAUTH2,)
        assert catalog.require("gmail").oauth2.token_url == "https://oauth2.googleapis.com/token"

    def test_an_empty_file_is_the_builtin_catalog(self, tmp_path: Path) -> None:
        assert [toolkit.slug for toolkit in load_catalog(write(tmp_path, ""))] == BUILTIN_ORDER


class TestMalformedOperatorFile:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("[toolkits.acme\nname = 1", "not valid TOML"),
            (ACME.replace('token_url = "https://acme.example/token"\n', ""), "toolkits.acme.oauth2.token_url: Field required"),
            (ACME.replace('mode = "OAUTH2"', 'mode = "OAUTH3"'), "toolkits.acme.auth_schemes[0].mode: Input should be"),
            (ACME + 'colour = "red"\n', "toolkits.acme.oauth2.colour: Extra inputs are not permitted"),
            (ACME.replace('name = "Acme"', 'name = "Acme"\ncolour = "red"'), "toolkits.acme.colour: Extra inputs are not permitted"),
            (ACME.split("[toolkits.acme.oauth2]")[0], "toolkits.acme: Value error, an OAUTH2 scheme needs an oauth2 table"),
            (ACME.replace('"https://acme.example/token"', '"ftp://acme.example/token"'), "toolkits.acme.oauth2.token_url: Value error, must be an http"),
            (ACME.replace('"https://api.acme.example"', '"https://{tenant}.acme.example"'), "uses {tenant}, which is not one of its fields"),
            (ACME.replace("[toolkits.acme]", "[toolkits.Acme]").replace("toolkits.acme.", "toolkits.Acme."), "toolkits.Acme.slug: String should match pattern"),
            (ACME.replace("acme", "categories"), "toolkits.categories: 'categories' is reserved"),
            ("[toolkits.stripe]\nenabled = \"no\"\n", "toolkits.stripe.enabled: must be true or false"),
            ("[toolkits.stripe]\nslug = \"other\"\n", "toolkits.stripe.slug: is not a known field"),
            ('[toolkits.stripe.managed_app]\nclient_id = "x"\nclient_secret = "y"\n', "toolkits.stripe: Value error, managed_app needs an OAUTH2 scheme"),
            ('[toolkits.github.oauth2]\nauthorize_params = { redirect_uri = "https://evil.example" }\n', "authorize_params may not set redirect_uri"),
            ("[toolkits.acme]\nname = \"Acme\"\nauth_schemes = []\n", "toolkits.acme: Value error, auth_schemes needs at least one scheme"),
            ('toolkit = {}\n', "toolkit: Extra inputs are not permitted"),
            (ACME + '[[toolkits.acme.tools]]\nslug = "A"\nname = "a"\n[[toolkits.acme.tools]]\nslug = "A"\nname = "b"\n', "tools lists a slug more than once"),
            ('[toolkits.github]\nauth_schemes = [{ mode = "API_KEY" }, { mode = "API_KEY" }]\n', "lists API_KEY more than once"),
        ],
    )
    def test_names_the_file_and_the_field(self, tmp_path: Path, text: str, expected: str) -> None:
        path = write(tmp_path, text)
        message = catalog_error(path)
        assert message.startswith(f"Invalid toolkit catalog {path}")
        assert expected in message, message

    def test_every_problem_is_listed(self, tmp_path: Path) -> None:
        text = ACME.replace('name = "Acme"', "name = 7").replace('"https://acme.example/authorize"', '"nope"')
        message = catalog_error(write(tmp_path, text))
        assert "toolkits.acme.name: Input should be a valid string" in message
        assert "toolkits.acme.oauth2.authorize_url:" in message

    def test_bad_json(self, tmp_path: Path) -> None:
        path = write(tmp_path, '{"toolkits": ', "toolkits.json")
        assert "not valid JSON" in catalog_error(path) and str(path) in catalog_error(path)

    @pytest.mark.parametrize("name", ["toolkits.yaml", "toolkits"])
    def test_unknown_format(self, tmp_path: Path, name: str) -> None:
        path = write(tmp_path, "", name)
        assert "must end in .toml or .json" in catalog_error(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        path = tmp_path / "absent.toml"
        message = catalog_error(path)
        assert str(path) in message and "No such file" in message

    def test_secrets_are_not_repeated_in_the_message(self, tmp_path: Path) -> None:
        text = ACME + '[toolkits.acme.managed_app]\nclient_id = "cid"\nclient_secret = "leaky-secret-value"\nscope = "x"\n'
        message = catalog_error(write(tmp_path, text))
        assert "toolkits.acme.managed_app.scope: Extra inputs are not permitted" in message
        assert "leaky-secret-value" not in message
        numeric = ACME + "[toolkits.acme.managed_app]\nclient_id = 'cid'\nclient_secret = 987654321987\n"
        message = catalog_error(write(tmp_path, numeric))
        assert "toolkits.acme.managed_app.client_secret" in message and "987654321987" not in message


class TestServeRefusesABadFile:
    def test_exits_with_the_message_and_no_traceback(self, tmp_path: Path) -> None:
        path = write(tmp_path, ACME.replace('mode = "OAUTH2"', 'mode = "OAUTH3"'))
        env = {
            **os.environ,
            "TENANTRY_TOOLKITS_FILE": str(path),
            "TENANTRY_DATA_DIR": str(tmp_path / "data"),
            "TENANTRY_DATABASE_URL": "",
            "COLUMNS": "60",
        }
        result = subprocess.run(
            [sys.executable, "-m", "tenantry", "serve", "--port", "1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert f"Invalid toolkit catalog {path}" in result.stderr
        assert "toolkits.acme.auth_schemes[0].mode" in result.stderr
        assert "Traceback" not in result.stderr
        # It stopped before touching the database.
        assert not (tmp_path / "data" / "tenantry.db").exists()
