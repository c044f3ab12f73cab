"""The settings table: read from the environment with a hint, and documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.errors import ConfigError
from analytics.settings import SETTINGS, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_in_the_readme_with_its_default(setting):
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `TOUCHPOINT_")]
    row = next((r for r in rows if r.startswith(f"| `{setting.env}` |")), "")

    assert row, f"README's settings table lacks {setting.env}"
    if setting.default:
        assert f"`{setting.default}`" in row


def test_defaults():
    settings = load_settings({})

    assert (settings.min_group, settings.clv_margin, settings.clv_discount) == (5, 1.0, 0.10)
    assert settings.clv_horizon_days == 365


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("TOUCHPOINT_CLV_MARGIN", "0", "TOUCHPOINT_CLV_MARGIN must be a number in (0, 1]. Got '0'"),
        ("TOUCHPOINT_CLV_MARGIN", "40%", "Got '40%' instead"),
        ("TOUCHPOINT_CLV_DISCOUNT", "1", "TOUCHPOINT_CLV_DISCOUNT must be a number in [0, 1)"),
        ("TOUCHPOINT_CLV_HORIZON_DAYS", "-5", "must be a whole number >= 1. Got '-5'"),
        ("TOUCHPOINT_MIN_GROUP", "many", "TOUCHPOINT_MIN_GROUP must be a whole number >= 1"),
    ],
)
def test_bad_values_say_which_setting_and_what_is_allowed(env, value, message):
    with pytest.raises(ConfigError) as raised:
        load_settings({env: value})
    assert message in str(raised.value)


def test_a_margin_and_a_rate_are_read_as_numbers():
    settings = load_settings({"TOUCHPOINT_CLV_MARGIN": "0.35", "TOUCHPOINT_CLV_DISCOUNT": "0"})

    assert (settings.clv_margin, settings.clv_discount) == (0.35, 0.0)


def test_the_engine_defaults_to_duckdb_and_names_the_choices_when_wrong():
    assert (load_settings({}).engine, load_settings({}).spark_master) == ("duckdb", "local[*]")
    assert load_settings({"TOUCHPOINT_ENGINE": " Spark "}).engine == "spark"
    with pytest.raises(
        ConfigError, match=r"TOUCHPOINT_ENGINE must be one of duckdb, spark\. Got 'presto'"
    ):
        load_settings({"TOUCHPOINT_ENGINE": "presto"})
    with pytest.raises(ConfigError, match="TOUCHPOINT_SPARK_MASTER must be local"):
        load_settings({"TOUCHPOINT_SPARK_MASTER": "http://cluster:7077"})
