"""Security (issue 13): no secret given to the suite appears in anything it writes; webhooks post
only over http(s) to allowed hosts; YAML errors name file and line.

The end-to-end test gives the suite a webhook whose path and query carry tokens and a ledger URL
with a password, runs the loop with ``dataops run``, answers approvals with ``dataops approve``
and ``reject``, and then greps every ledger record, every event of every run of the instance,
every file under the data home (the Dagster instance's databases and the stored batches
included) and every command's output for the secrets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

import datareflex
import schemasense
from suite.cli.demo import open_instance
from suite.cli.main import main
from suite.cli.sample_data import SampleBatch
from suite.config import PACKAGE_DIR
from tests.support.declared import declare

PATH_TOKEN = "xoxbPathToken9Secret8Value7"
QUERY_TOKEN = "QueryTokenSecret42"
LEDGER_PASSWORD = "LedgerPassw0rdSecret"
SECRETS = (PATH_TOKEN, QUERY_TOKEN, LEDGER_PASSWORD)


class _Hook(ThreadingHTTPServer):
    """A webhook on 127.0.0.1 that records what it received; ``answer`` is its status, and
    ``location`` where a 3xx sends the client."""

    def __init__(self, answer: int = 204, location: str = "") -> None:
        self.received: list[tuple[str, dict[str, object]]] = []
        self.answer, self.location = answer, location
        super().__init__(("127.0.0.1", 0), _HookHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _HookHandler(BaseHTTPRequestHandler):
    server: _Hook

    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, body))
        self.send_response(self.server.answer)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST  # noqa: N815 (a followed redirect would arrive as a GET)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def contract(frames: dict[str, pd.DataFrame]) -> schemasense.Contract:
    return schemasense.infer(frames["training"], name="orders")


@pytest.fixture
def hook() -> Iterator[_Hook]:
    server = _Hook()
    yield server
    server.close()


def _policy_with_webhook(url: str, allowed: str = "[127.0.0.1]") -> str:
    """The bundled orders policy, its drift alert posting to ``url``."""
    text = (PACKAGE_DIR / "orders_policy.yaml").read_text()
    alert = "    when: {kind: [drift, metric_anomaly]}\n    then: alert\n"
    assert alert in text
    return (
        text.replace(alert, f"{alert}    with: {{webhook: '{url}'}}\n")
        + f"alerts: {{allowed_hosts: {allowed}}}\n"
    )


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    """SQLite takes no user part, but passes unknown URI parameters by: a password all the same.
    (``tests/live/test_security_postgres.py`` gives a PostgreSQL URL with ``user:password@``.)"""
    path = tmp_path / "home" / "dagster_home" / "ledger.db"
    return f"sqlite:///file:{path}?uri=true&password={LEDGER_PASSWORD}"


@pytest.fixture
def secret_suite(
    tmp_path: Path,
    stream: tuple[Path, list[SampleBatch]],
    hook: _Hook,
    ledger_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, object]:
    """The sample stream landed for ``shop``, whose policy alerts a secret webhook, with its
    ledger at a URL that carries a password."""
    source, batches = stream
    home = tmp_path / "home"
    landing = home / "in" / "shop"
    landing.mkdir(parents=True)
    for batch in batches:
        (landing / batch.name).write_bytes((source / batch.name).read_bytes())
    webhook = f"{hook.base}/services/T0/B0/{PATH_TOKEN}?channel=ops&token={QUERY_TOKEN}"
    policy = tmp_path / "policy.yaml"
    policy.write_text(_policy_with_webhook(webhook))
    dagster_home = declare(
        monkeypatch,
        home,
        tmp_path / "suite.yaml",
        f"datasets:\n  shop:\n    landing: in/shop\n    keys: [order_id]\n    policy: {policy}\n",
    )
    monkeypatch.setenv("DATAOPS_LEDGER_URL", ledger_url)
    return {"home": home, "dagster_home": dagster_home, "ledger_url": ledger_url, "batches": batches}


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_no_secret_given_to_the_suite_appears_in_anything_it_writes(secret_suite, hook, capsys) -> None:
    url = str(secret_suite["ledger_url"])
    assert main(["run", "--json"]) == 0
    ran = capsys.readouterr()
    rows = json.loads(ran.out)
    assert _leaks(ran.out + ran.err) == []
    assert len(rows) == len(secret_suite["batches"])  # type: ignore[arg-type]
    assert hook.received and all(PATH_TOKEN in path and QUERY_TOKEN in path for path, _ in hook.received)

    ledger = datareflex.Ledger(url)
    records = ledger.records()
    told = [n for r in records if r.kind == "alert" for n in r.detail.get("notes", [])]
    assert f"webhook {hook.base}/***: HTTP 204" in told  # the alert was sent, and said so
    asked = ledger.append("shop", rows[-1]["batch"], "approval", "requested", {"action": "retrain"})
    other = ledger.append("shop", rows[-1]["batch"], "approval", "requested", {"action": "retrain"})
    ledger.dispose()

    outputs = []
    for command in (
        ["ledger"],
        ["ledger", "--json", "--url", url],
        ["approvals"],
        ["approve", str(asked), "--by", "ana", "--url", url],
        ["reject", str(other)],
        ["approve", "99999", "--url", url],  # an error naming the ledger's URL
        ["approve", str(asked)],  # already granted
        ["approvals", "--url", url],
    ):
        main(command)
        captured = capsys.readouterr()
        outputs.append((command, captured.out + captured.err))
    said = dict((" ".join(c), text) for c, text in outputs)
    assert f"approval {asked} (retrain on ): granted" in said[f"approve {asked} --by ana --url {url}"]
    assert "***" in said[f"approve 99999 --url {url}"]  # the URL is named, redacted
    assert {" ".join(c): _leaks(text) for c, text in outputs} == {" ".join(c): [] for c, _ in outputs}

    ledger = datareflex.Ledger(url)
    stored = json.dumps([r.__dict__ for r in ledger.records()], default=str)
    ledger.dispose()
    assert _leaks(stored) == []

    instance = open_instance(secret_suite["dagster_home"])  # type: ignore[arg-type]
    runs = instance.get_run_records()
    assert runs
    for run in runs:
        assert _leaks(json.dumps(run.dagster_run.tags)) == []
        events = [dg.serialize_value(event) for event in instance.all_logs(run.dagster_run.run_id)]
        assert events and _leaks("\n".join(events)) == [], run.dagster_run.job_name
    materialized = [
        record.event_log_entry
        for key in instance.get_asset_keys()
        for record in instance.fetch_materializations(key, limit=10_000).records
    ]
    assert materialized and _leaks("\n".join(dg.serialize_value(e) for e in materialized)) == []
    instance.dispose()

    files = [p for p in Path(secret_suite["home"]).rglob("*") if p.is_file()]  # type: ignore[arg-type]
    assert any(p.suffix == ".parquet" for p in files)
    assert any(p.name == "ledger.db" for p in files) or not url.startswith("sqlite")
    leaking = {str(p): s for p in files for s in SECRETS if s.encode() in p.read_bytes()}
    assert leaking == {}


@pytest.mark.parametrize(
    ("webhook", "allowed", "problem"),
    [
        (
            "file:///etc/passwd",
            "[127.0.0.1]",
            "file:///*** is not allowed: a webhook must be an http or https URL",
        ),
        (
            "ftp://127.0.0.1/drop",
            "[127.0.0.1]",
            "ftp://127.0.0.1/*** is not allowed: a webhook must be an http",
        ),
        (
            "http://169.254.169.254/latest/meta-data",
            "[hooks.slack.com]",
            "its host is not in alerts.allowed_hosts",
        ),
        ("http://localhost:8080/admin", "[127.0.0.1]", "http://localhost:8080/*** is not allowed: its host"),
        (f"https://hooks.slack.com/services/T0/B0/{PATH_TOKEN}", "[]", "https://hooks.slack.com/*** is not"),
    ],
)
def test_a_webhook_over_another_scheme_or_to_a_host_not_allowed_is_refused_at_load(
    webhook: str, allowed: str, problem: str, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    text = _policy_with_webhook(webhook, allowed)
    policy.write_text(text)
    line = text.splitlines().index(f"    with: {{webhook: '{webhook}'}}") + 1
    with pytest.raises(datareflex.PolicyError) as caught:
        datareflex.Policy.from_file(policy)
    message = str(caught.value)
    assert message.startswith(f"{policy}, line {line}: rules.5.with.webhook: ")
    assert problem in message and PATH_TOKEN not in message


def test_no_allowed_hosts_allows_no_webhook_and_the_cli_exits_2(tmp_path, monkeypatch, capsys) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "rules:\n  - when: {kind: drift}\n    then: alert\n"
        f"    with: {{webhook: 'https://hooks.slack.com/services/T0/B0/{PATH_TOKEN}'}}\n"
    )
    config = tmp_path / "suite.yaml"
    config.write_text(f"datasets:\n  shop: {{landing: in, policy: {policy}}}\n")
    monkeypatch.setenv("DATAOPS_HOME", str(tmp_path))
    monkeypatch.setenv("DATAOPS_CONFIG", str(config))
    assert main(["run"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"dataops: {policy}, line 4: rules.0.with.webhook: https://hooks.slack.com/***")
    assert "allowed_hosts []" in error and PATH_TOKEN not in error and "Traceback" not in error


def test_the_sender_posts_only_over_http_and_never_follows_a_redirect(hook, contract, frames) -> None:
    elsewhere = _Hook()
    hook.answer, hook.location = 302, f"{elsewhere.base}/internal"
    signal = datareflex.Signal(datareflex.SignalKind.DRIFT, "amount", "wasserstein", magnitude=0.4)
    try:
        policy = datareflex.Policy.from_yaml(_policy_with_webhook(f"{hook.base}/hook/{PATH_TOKEN}"))
        outcome = datareflex.Reflex(policy).handle(frames["clean"].head(5), [signal], contract=contract)
    finally:
        elsewhere.close()
    assert len(hook.received) == 1 and elsewhere.received == []
    assert f"webhook {hook.base}/*** failed: HTTP 302, a redirect (not followed)" in outcome.notes
    # A context built by hand (no policy checked it) still posts over http(s) only.
    context = datareflex.ActionContext(contract, {"webhook": "file:///etc/passwd"})
    result = datareflex.ACTIONS[datareflex.ActionKind.ALERT](frames["clean"].head(5), [signal], context)
    assert "webhook file:///*** refused: a webhook must be an http or https URL" in result.notes


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("rules: !!python/object/apply:os.system [echo hi]\n", 1, "the tag !!python/object/apply:os.system"),
        ("rules:\n  - when: {kind: drift}\n    then: !secret alert\n", 3, "the tag !secret is not allowed"),
        (
            "rules:\n  - when: {kind: drift}\n    then: alert\n    with: {after_batches: !!int x}\n",
            4,
            "!!int",
        ),
        ("rules: &loop\n  - *loop\n", 2, "the alias *loop is inside the value it names"),
        ("rules: []\ndefault: hold\x07\n", 2, "character #x0007"),
    ],
)
def test_a_tag_or_a_broken_yaml_in_a_policy_names_file_and_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(datareflex.PolicyError) as caught:
        datareflex.Policy.from_yaml(text, "policy.yaml")
    assert str(caught.value).startswith(f"policy.yaml, line {line}: not valid YAML: ")
    assert problem in str(caught.value)


def test_a_billion_laughs_policy_is_refused_not_expanded() -> None:
    levels = ["a: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(datareflex.PolicyError, match="more than 100000 values once aliases are expanded"):
        datareflex.Policy.from_yaml("\n".join(levels) + "\n", "policy.yaml")


@pytest.mark.parametrize("where", ["suite", "policy"])
def test_a_tagged_suite_yaml_or_policy_exits_2_naming_file_and_line(
    where, tmp_path, monkeypatch, capsys
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - when: {kind: drift}\n    then: alert\n    name: !!python/name:os.system\n")
    config = tmp_path / "suite.yaml"
    description = "!!python/object/apply:os.getcwd []" if where == "suite" else "orders"
    config.write_text(
        f"datasets:\n  shop:\n    landing: in\n    description: {description}\n    policy: {policy}\n"
    )
    monkeypatch.setenv("DATAOPS_HOME", str(tmp_path))
    monkeypatch.setenv("DATAOPS_CONFIG", str(config))
    assert main(["run"]) == 2
    error = capsys.readouterr().err
    named = config if where == "suite" else policy
    tag = "!!python/object/apply:os.getcwd" if where == "suite" else "!!python/name:os.system"
    assert error.startswith(f"dataops: {named}, line 4: not valid YAML: the tag {tag} is not allowed")
    assert "Traceback" not in error and "ConstructorError" not in error


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql+psycopg2://ana:pw0rd@db:5432/ops", "postgresql+psycopg2://ana:***@db:5432/ops"),
        (
            "https://h.example/x?Access_Token=a1&API_KEY=b2&page=3",
            "https://h.example/x?Access_Token=***&API_KEY=***&page=3",
        ),
        (
            "https://h.example/x?secret=a&password=b&sig=c&signature=d&key=e",
            "https://h.example/x?"
            + "&".join(f"{n}=***" for n in ("secret", "password", "sig", "signature", "key")),
        ),
        ("see https://hooks.slack.com/services/T01/B02/abcdef.", "see https://hooks.slack.com/services/***."),
        ("https://discord.com/api/webhooks/123/tok", "https://discord.com/api/webhooks/***"),
        (
            "https://s3.example/b/o?X-Amz-Signature=ff&X-Amz-Date=1",
            "https://s3.example/b/o?X-Amz-Signature=***&X-Amz-Date=1",
        ),
        (f"https://h.example/hooks/{PATH_TOKEN}/x", "https://h.example/hooks/***/x"),
        ("dsn host=db password='a b' user=ana", "dsn host=db password=*** user=ana"),
        ("Authorization: Bearer abcdef123456", "Authorization: Bearer ***"),
        (
            "sqlite:////tmp/test_the_ledger_lives_here0/ledger.db",
            "sqlite:////tmp/test_the_ledger_lives_here0/ledger.db",
        ),
        ("no url here: 3 rows quarantined", "no url here: 3 rows quarantined"),
    ],
)
def test_redact_hides_passwords_tokens_and_webhook_paths(text: str, shown: str) -> None:
    assert datareflex.redact(text) == shown
    assert datareflex.redact({"notes": [text], "n": 3}) == {"notes": [shown], "n": 3}


def test_the_ledger_redacts_at_write_time() -> None:
    ledger = datareflex.Ledger("sqlite://")
    ledger.append(
        "orders", "d1", "action", "alert", {"notes": [f"posted to https://u:{LEDGER_PASSWORD}@h/x"]}
    )
    assert ledger.records()[0].detail == {"notes": ["posted to https://u:***@h/x"]}


def test_a_hold_reason_naming_a_url_is_stored_redacted(contract, frames) -> None:
    policy = datareflex.Policy.from_yaml(
        "rules:\n  - when: {kind: drift}\n    then: hold\n"
        f"    with: {{reason: 'ask ops at https://ops:{LEDGER_PASSWORD}@wiki.example/runbook'}}\n"
    )
    signal = datareflex.Signal(datareflex.SignalKind.DRIFT, "amount", "wasserstein", magnitude=0.4)
    outcome = datareflex.Reflex(policy).handle(frames["clean"].head(5), [signal], contract=contract)
    reasons = set(outcome.held[schemasense.REASON_COLUMN])
    assert reasons == {"held: ask ops at https://ops:***@wiki.example/runbook"}
