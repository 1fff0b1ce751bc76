"""The Dagster UI in a real browser (Debian's Chromium driven by Playwright): the asset graph, a
partition materialized from the launch dialog, and the failed contract check with its table."""

import re
from pathlib import Path

from dagster import DagsterRunStatus
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.servers import CHROMIUM_FLAGS, wait_for

from .loop import RUNS, LiveLoop, tag

NO_COMMUNITY_POPUP = "window.localStorage.setItem('communityNux', '\"1\"')"


def materialize_partition(page: Page, partition: str) -> None:
    page.get_by_role("button", name=re.compile("Materialize")).first.click()
    page.get_by_text("Select a partition or create one").click()
    page.get_by_placeholder("Filter partitions").fill(partition)
    page.get_by_text(partition, exact=True).filter(visible=True).first.click()
    page.get_by_text("Launch runs to materialize").click()  # closes the partition list
    page.get_by_role("button", name=re.compile("^Launch 1 run")).click()


def test_a_faulty_partition_materialized_from_the_ui_shows_its_failed_check(
    chromium: Path, sqlite_loop: LiveLoop, tmp_path: Path
) -> None:
    url = sqlite_loop.servers.url
    corrupt = next(b.name for b in sqlite_loop.batches if b.kind == "corrupt")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=list(CHROMIUM_FLAGS))
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.add_init_script(NO_COMMUNITY_POPUP)
            page.set_default_timeout(30_000)

            page.goto(f"{url}/asset-groups")  # the asset graph
            for asset in ("raw_batch", "validation", "drift_report", "published_batch", "quarantine"):
                expect(page.get_by_text(asset, exact=True).first).to_be_visible()
            page.screenshot(path=tmp_path / "asset-graph.png")

            page.goto(f"{url}/assets/orders/validation")
            materialize_partition(page, corrupt)
            run = wait_for("the run launched from the UI", lambda: ui_run(sqlite_loop, corrupt), 60, 1)
            client = sqlite_loop.servers.client()
            status = wait_for(
                "the UI's run to finish",
                lambda: (
                    (s := client.get_run_status(run["runId"]))
                    in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)
                    and s
                ),
                180,
                2,
            )
            assert status is DagsterRunStatus.FAILURE  # the blocking contract check stops the run

            page.goto(f"{url}/assets/orders/validation?view=checks")
            check = page.get_by_text("rows_satisfy_contract", exact=True).first
            expect(check).to_be_visible()
            check.click()
            expect(page.get_by_text("Failed").first).to_be_visible()
            expect(page.get_by_text("failing_rules")).to_be_visible()
            table = page.locator("table", has_text="examples").last
            for cell in ("order_id", "unique", "country", "allowed", "ZZ", "fax", "1000000.0"):
                expect(table.get_by_text(cell, exact=True).first).to_be_visible()
            expect(page.get_by_text(corrupt, exact=True).first).to_be_visible()
            page.screenshot(path=tmp_path / "failed-check.png", full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "failed-check.png").stat().st_size > 10_000


def ui_run(loop: LiveLoop, partition: str) -> dict | None:
    """The run the UI launched: an ad hoc asset job on ``partition``, not one a sensor asked for."""
    runs = loop.query(RUNS)["runsOrError"]["results"]
    return next(
        (
            r
            for r in runs
            if r["jobName"] == "__ASSET_JOB"
            and tag(r, "dagster/partition") == partition
            and not tag(r, "dagster/sensor_name")
        ),
        None,
    )
