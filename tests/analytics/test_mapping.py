"""Automatic mapping, overrides and saved profiles."""

import pytest

from analytics.errors import MappingError
from analytics.ingest.mapping import (
    ColumnMatch,
    apply_overrides,
    find_profile,
    get_profile,
    list_profiles,
    profile_matches,
    propose_mapping,
    save_profile,
    validate_profile_name,
)


def targets(matches):
    return {m.source: (m.target, m.confidence) for m in matches}


@pytest.mark.parametrize(
    ("dataset", "header", "target", "confidence"),
    [
        ("customers", "customer_id", "customer_id", 1.0),
        ("customers", "Customer ID", "customer_id", 1.0),
        ("customers", "cust_id", "customer_id", 0.95),
        ("customers", "CustomerID", "customer_id", 0.95),
        ("customers", "client", "customer_id", 0.95),
        ("surveys", "Likelihood to recommend", "nps", 0.95),
        ("surveys", "NPS score", "nps", 0.95),
        ("surveys", "Q1_NPS", "nps", 0.95),
        ("orders", "Order Total (EUR)", "amount", 0.79),
        ("orders", "Ordr Date", "order_date", 0.75),
        ("orders", "Favourite colour", None, 0.0),
    ],
)
def test_propose_mapping_single_header(dataset, header, target, confidence):
    assert targets(propose_mapping([header], dataset))[header] == (target, confidence)


def test_competing_headers_keep_the_closer_match():
    matches = propose_mapping(["Order Date", "Date"], "orders")
    assert targets(matches) == {"Order Date": ("order_date", 1.0), "Date": (None, 0.0)}
    assert matches[1].reason == "'Order Date' matched order_date more closely"
    assert matches[1].kept_as == "attr_date"


def test_overrides_replace_and_free_targets():
    matches = propose_mapping(["Total", "Net"], "orders")
    result = apply_overrides(matches, {"Net": "amount"}, "orders")
    assert targets(result) == {"Total": (None, 0.0), "Net": ("amount", 1.0)}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"Totl": "amount"},
            "Column 'Totl' is not in the file. Its columns are: 'Net', 'Total'.",
        ),
        (
            {"Net": "price"},
            "'price' is not a column of orders. Map 'Net' to one of: order_id, customer_id, "
            "order_date, amount, quantity, product, product_category, channel, status, "
            "discount (or 'attribute' to keep it as an extra column, 'ignore' to drop it).",
        ),
        (
            {"Net": "amount", "Total": "amount"},
            "Columns 'Total' and 'Net' are both mapped to amount. Map only one of them there.",
        ),
    ],
)
def test_bad_overrides_say_what_is_wrong(overrides, message):
    matches = propose_mapping(["Total", "Net"], "orders")
    with pytest.raises(MappingError) as err:
        apply_overrides(matches, overrides, "orders")
    assert str(err.value) == message


def test_profile_round_trip_and_auto_match(tmp_path):
    headers = ["Nr", "Kunde", "Datum", "Betrag"]
    matches = apply_overrides(
        propose_mapping(headers, "orders"),
        {"Nr": "order_id", "Kunde": "customer_id", "Datum": "order_date", "Betrag": "amount"},
        "orders",
    )
    save_profile(tmp_path, "German shop", "orders", matches)
    assert [p.name for p in list_profiles(tmp_path)] == ["German shop"]
    found = find_profile(tmp_path, "orders", ["betrag", "DATUM", "Kunde", "Nr"])
    assert found is not None and found.name == "German shop"
    assert find_profile(tmp_path, "orders", ["Nr", "Kunde"]) is None
    assert find_profile(tmp_path, "surveys", headers) is None
    assert targets(profile_matches(found, headers)) == {
        "Nr": ("order_id", 1.0),
        "Kunde": ("customer_id", 1.0),
        "Datum": ("order_date", 1.0),
        "Betrag": ("amount", 1.0),
    }
    assert get_profile(tmp_path, "german SHOP").name == "German shop"


def test_profile_names_never_become_paths(tmp_path):
    folder = tmp_path / "profiles"
    with pytest.raises(MappingError) as err:
        validate_profile_name("../../etc/passwd")
    assert "cannot be used" in str(err.value)
    save_profile(folder, "Shop (EU) v2.1", "orders", [ColumnMatch("x", "amount", 1.0, "")])
    assert [p.parent for p in folder.iterdir()] == [folder]


def test_unknown_profile_lists_saved_ones(tmp_path):
    save_profile(tmp_path, "CRM", "customers", [ColumnMatch("id", "customer_id", 1.0, "")])
    with pytest.raises(MappingError) as err:
        get_profile(tmp_path, "Shop")
    assert str(err.value) == "There is no mapping profile called 'Shop'. Saved profiles: 'CRM'."
