"""Data page (AppTest): upload -> mapping -> check -> confirm -> load, bad files, rollback."""

from __future__ import annotations

import time

import polars as pl
from apptest_helpers import DATA, OVERVIEW, button, metrics, open_app

from analytics import rollups
from analytics.errors import ReadError
from analytics.ingest.pipeline import check_export, ingest, list_quarantines, suggest_mapping
from analytics.ingest.readers import read_export
from dashboard import format as fmt
from dashboard.components import OPEN_DIALOG

# Two new completed orders: orders 3 -> 5, revenue 1,379.75 -> 1,900.00.
NEW_ORDERS = (
    b"Order Number;Customer ID;Order Date;Total\nO5;C2;2025-06-01;500,00\nO6;C3;2025-06-02;20,25\n"
)
# One good row, one bad amount, one order id that is already loaded.
MIXED_ORDERS = (
    b"order_id,customer_id,order_date,amount\n"
    b"O7,C1,2025-07-01,10.00\n"
    b"O8,C2,2025-07-02,lots\n"
    b"O1,C3,2025-07-03,5.00\n"
)
NO_AMOUNT = b"order_id,customer_id,order_date\nO9,C1,2025-08-01\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def upload_file(at, name: str, content: bytes, mime: str = "text/csv"):
    at.file_uploader(key="uploads").set_value((name, content, mime)).run()
    assert not at.exception, at.exception
    return at


def test_upload_check_and_confirmed_load_refresh_the_overview(tiny_warehouse):
    at = open_app(DATA)
    upload_file(at, "shop_export.csv", NEW_ORDERS)

    assert at.selectbox[0].label == "Dataset" and at.selectbox[0].value == "orders"
    assert any("delimiter: semicolon" in c.value for c in at.caption)
    mapping = at.data_editor[0].value
    assert mapping["column in file"].to_list() == [
        "Order Number",
        "Customer ID",
        "Order Date",
        "Total",
    ]
    assert mapping["maps to"].to_list() == ["order_id", "customer_id", "order_date", "amount"]
    assert "Required: order_id :green[✓] · customer_id :green[✓]" in " ".join(
        c.value for c in at.caption
    )

    button(at, "Check").click().run()
    assert at.success[0].value == "Every row is valid for orders (2 rows)."

    button(at, "Load…").click().run()
    assert "Load 2 rows into orders (append)?" in [m.value for m in at.markdown]

    before = tiny_warehouse.data_version()
    at.button(key="load_confirm").click().run()
    assert not at.exception, at.exception
    assert tiny_warehouse.data_version() != before
    rollup = rollups.current(tiny_warehouse, "orders")  # built before the dialog closed
    assert (
        rollup is not None
        and rollup.key == f"orders{tiny_warehouse.version('orders')}-customers0-r{rollups.LAYOUT}"
    )
    assert at.success[0].value.startswith("Loaded 2 rows into orders (version ")
    assert all(b.key != "load_confirm" for b in at.button), "the dialog closed"

    at.switch_page(OVERVIEW).run()
    assert metrics(at)["Orders"] == "5"
    assert metrics(at)["Revenue"] == "$1,900"


def test_quarantine_policy_loads_valid_rows_and_offers_the_rest(tiny_warehouse):
    at = open_app(DATA)
    upload_file(at, "orders_july.csv", MIXED_ORDERS)
    button(at, "Check").click().run()

    assert at.warning[0].value == "2 of 3 rows have problems for orders; 1 row is valid."
    assert at.download_button[0].label == "Download the 2 invalid rows (CSV)"
    assert not [b for b in at.button if b.label == "Load…"], "reject policy: no load button"

    at.radio[1].set_value("quarantine").run()
    button(at, "Load…").click().run()
    assert "Load 1 row into orders (append)? 2 invalid rows will be quarantined." in [
        m.value for m in at.markdown
    ]
    at.button(key="load_confirm").click().run()

    assert "2 invalid rows were quarantined" in at.success[0].value
    assert len(list_quarantines(tiny_warehouse)) == 1
    assert at.selectbox(key="quarantine").value == list_quarantines(tiny_warehouse)[0].name


def test_a_png_renamed_csv_shows_the_readers_message_and_loads_nothing(tiny_warehouse):
    try:
        read_export(PNG, file_name="customers.csv")
    except ReadError as exc:
        expected = str(exc)
    else:
        raise AssertionError("the reader accepted PNG bytes")
    before = tiny_warehouse.data_version()

    at = open_app(DATA)
    upload_file(at, "customers.csv", PNG, "image/png")

    assert [e.value for e in at.error] == [fmt.plain_text(expected)]
    assert tiny_warehouse.data_version() == before


def test_missing_required_column_is_reported_and_cannot_load(tiny_warehouse):
    raw = read_export(NO_AMOUNT, file_name="orders_no_amount.csv")
    proposal = suggest_mapping(raw, "orders", tiny_warehouse)
    report = check_export(raw, "orders", proposal.matches, tiny_warehouse).report
    expected = report.errors[0].describe()
    before = tiny_warehouse.data_version()

    at = open_app(DATA)
    upload_file(at, "orders_no_amount.csv", NO_AMOUNT)
    at.selectbox[0].set_value("orders").run()  # with amount missing, the guess is not orders
    assert "amount :red[✗ not mapped]" in " ".join(c.value for c in at.caption)
    button(at, "Check").click().run()

    assert len(at.error) == 1
    assert fmt.plain_text(expected) in at.error[0].value
    assert at.error[0].value.startswith("Nothing can be loaded into orders")
    assert not [b for b in at.button if b.label == "Load…"]
    assert tiny_warehouse.data_version() == before


def test_mapping_override_from_the_editor_is_used_by_check_and_load(tiny_warehouse):
    content = b"ref,customer_id,order_date,amount,Gift wrap\nO10,C1,2025-09-01,12.50,yes\n"
    at = open_app(DATA)
    upload_file(at, "odd_headers.csv", content)
    editor_key = at.data_editor[0].key
    # 'ref' is unknown to the contract: map it onto order_id, and drop 'Gift wrap'.
    at.session_state[editor_key] = {
        "edited_rows": {0: {"maps to": "order_id"}, 4: {"maps to": "ignore"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert "order_id :green[✓]" in " ".join(c.value for c in at.caption)
    button(at, "Check").click().run()
    assert at.success[0].value == "Every row is valid for orders (1 row)."
    button(at, "Load…").click().run()
    at.button(key="load_confirm").click().run()

    orders = tiny_warehouse.read("orders")
    assert "O10" in orders.get_column("order_id").to_list()
    assert not [c for c in orders.columns if c.startswith("attr_gift")]


def test_oversized_file_is_refused_with_the_limit(tiny_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_MAX_UPLOAD_MB", "1")
    at = open_app(DATA)
    upload_file(at, "big.csv", b"order_id\n" + b"O1\n" * 400_000)

    assert at.error[0].value.startswith("big\\.csv is 1.1 MB, more than the 1 MB the Data page")


def test_rollback_from_the_data_page_restores_the_earlier_orders(tiny_warehouse):
    first = tiny_warehouse.version("orders")
    ingest(NEW_ORDERS, dataset_name="orders", warehouse=tiny_warehouse, file_name="more.csv")
    at = open_app(DATA)
    at.segmented_control(key="history_dataset").set_value("orders").run()

    table = at.dataframe[0].value
    assert list(table.columns[:4]) == ["version", "when", "action", "file"]
    assert table["action"].to_list()[:2] == ["load (append)", "load (append)"]
    assert "more.csv" in table["file"].to_list()

    at.selectbox(key="rollback_version_orders").set_value(first).run()
    button(at, "Roll back…").click().run()
    at.button(key="rollback_confirm").click().run()

    assert not at.exception, at.exception
    assert at.success[0].value.startswith(f"orders is back to the data of version {first}")
    assert tiny_warehouse.read("orders").height == 4
    rollup = rollups.current(tiny_warehouse, "orders")
    assert (
        rollup is not None
        and rollup.key == f"orders{tiny_warehouse.version('orders')}-customers0-r{rollups.LAYOUT}"
    )
    at.switch_page(OVERVIEW).run()
    assert metrics(at)["Orders"] == "3"


def test_load_dialog_cancel_closes_without_loading(tiny_warehouse):
    at = open_app(DATA)
    upload_file(at, "shop_export.csv", NEW_ORDERS)
    button(at, "Check").click().run()
    button(at, "Load…").click().run()
    before = tiny_warehouse.data_version()

    at.button(key="load_cancel").click().run()

    assert OPEN_DIALOG not in at.session_state
    assert all(b.key != "load_confirm" for b in at.button)
    assert tiny_warehouse.data_version() == before
    assert isinstance(tiny_warehouse.read("orders"), pl.DataFrame)


def _workbook(sheets: dict[str, pl.DataFrame]) -> bytes:
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        for name, frame in sheets.items():
            frame.write_excel(workbook=workbook, worksheet=name)
    return buffer.getvalue()


def test_excel_sheet_choice_rereads_the_workbook(tiny_warehouse):
    content = _workbook(
        {
            "Read me": pl.DataFrame({"customer_id": ["C9"], "name": ["Not an order"]}),
            "Orders": pl.DataFrame(
                {
                    "order_id": ["O20", "O21"],
                    "customer_id": ["C1", "C2"],
                    "order_date": ["2025-10-01", "2025-10-02"],
                    "amount": ["10.5", "20"],
                }
            ),
        }
    )
    at = open_app(DATA)
    upload_file(at, "export.xlsx", content, "application/octet-stream")
    sheet = at.selectbox[0]
    assert sheet.label == "Sheet" and sheet.options == ["Read me", "Orders"]
    assert sheet.value == "Read me"

    sheet.set_value("Orders").run()

    assert at.selectbox[1].value == "orders"
    assert any("Excel workbook" in c.value and "sheet Orders" in c.value for c in at.caption)
    button(at, "Check").click().run()
    assert at.success[0].value == "Every row is valid for orders (2 rows)."


def test_saved_profile_maps_the_next_export_by_itself(tiny_warehouse):
    at = open_app(DATA)
    upload_file(at, "shop_export.csv", NEW_ORDERS)
    at.text_input[0].input("Shop export").run()
    button(at, "Save profile").click().run()
    assert at.success[0].value == "Saved the mapping profile 'Shop export'."

    again = open_app(DATA)
    upload_file(again, "shop_export_july.csv", NEW_ORDERS.replace(b"O5", b"O50"))
    assert again.info[0].value == fmt.plain_text(
        "Mapped with the saved profile 'Shop export': its headers match this file."
    )


def test_replace_mode_asks_with_the_rows_it_replaces(tiny_warehouse):
    at = open_app(DATA)
    upload_file(at, "shop_export.csv", NEW_ORDERS)
    at.radio[0].set_value("replace").run()
    button(at, "Check").click().run()
    button(at, "Load…").click().run()

    assert (
        "Replace orders with 2 rows (replace)? The 4 rows loaded now stay restorable for 30 days."
        in [m.value for m in at.markdown]
    )


def test_more_rows_than_the_data_page_loads_points_to_the_cli(tiny_warehouse, monkeypatch):
    from dashboard import upload

    monkeypatch.setattr(upload, "MAX_UPLOAD_ROWS", 1)
    at = open_app(DATA)
    upload_file(at, "shop_export.csv", NEW_ORDERS)
    button(at, "Check").click().run()

    assert at.error[0].value == (
        "shop\\_export\\.csv has 2 rows; the Data page loads up to 1 row. Load it with the "
        "command line: `python -m analytics ingest FILE --dataset orders`."
    )
    assert not [b for b in at.button if b.label == "Load…"]


def test_data_loaded_elsewhere_is_summarised_in_the_background(tiny_warehouse):
    """A load from the command line or another process: the app builds the rollups itself."""
    assert rollups.current(tiny_warehouse, "orders") is None
    at = open_app(OVERVIEW)
    assert not at.exception, at.exception
    deadline = time.monotonic() + 30  # waiting for the thread, not timing it
    while rollups.pending(tiny_warehouse) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not rollups.pending(tiny_warehouse)
    assert rollups.current(tiny_warehouse, "orders") is not None
    assert rollups.current(tiny_warehouse, "surveys") is not None
