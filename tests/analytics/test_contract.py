"""The data contract: its docs page, its rules and header folding."""

from pathlib import Path

import pytest

from analytics import contract
from analytics.errors import WarehouseError

ROOT = Path(__file__).resolve().parents[2]


def test_docs_page_is_generated_from_the_contract():
    page = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert page == contract.render_markdown(), (
        "docs/data-contract.md is stale: run `python -m analytics contract --write "
        "docs/data-contract.md`"
    )


def test_five_datasets_with_required_columns_of_design_section_2():
    required = {name: ds.required for name, ds in contract.DATASETS.items()}
    assert required == {
        "customers": ("customer_id",),
        "orders": ("order_id", "customer_id", "order_date", "amount"),
        "surveys": ("response_id", "responded_at"),
        "tickets": ("ticket_id", "customer_id", "opened_at"),
        "events": ("customer_id", "occurred_at", "touchpoint"),
    }


@pytest.mark.parametrize(
    ("dataset", "column", "low", "high"),
    [
        ("surveys", "nps", 0, 10),
        ("surveys", "csat", 1, 5),
        ("surveys", "ces", 1, 7),
        ("tickets", "csat", 1, 5),
    ],
)
def test_score_ranges(dataset, column, low, high):
    col = contract.dataset(dataset).column(column)
    assert (col.minimum, col.maximum) == (low, high)


def test_no_synonym_is_claimed_by_two_columns_of_one_dataset():
    for ds in contract.DATASETS.values():
        owner: dict[str, str] = {}
        for col in ds.columns:
            for name in (col.name, *col.synonyms):
                folded = contract.normalise_header(name)
                assert owner.setdefault(folded, col.name) == col.name, (
                    f"{ds.name}: '{name}' is a synonym of both {owner[folded]} and {col.name}"
                )


@pytest.mark.parametrize(
    ("header", "folded"),
    [
        ("Customer ID", "customer id"),
        ("\ufeffcustomer_id", "customer id"),
        ("  Order-Date ", "order date"),
        ("e.mail", "e mail"),
    ],
)
def test_normalise_header(header, folded):
    assert contract.normalise_header(header) == folded


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Delivery speed rating", "attr_delivery_speed_rating"),
        ("2nd choice", "attr_c_2nd_choice"),
        ("%%%", "attr_column"),
    ],
)
def test_attribute_name(header, name):
    assert contract.attribute_name(header) == name


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(WarehouseError) as err:
        contract.dataset("order")
    assert str(err.value) == (
        "Unknown dataset 'order'. Choose one of: customers, orders, surveys, tickets, events."
    )
