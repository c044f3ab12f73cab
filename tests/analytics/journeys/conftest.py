"""Companies with their journeys built: the sample company, and a small one generated with
another seed and fewer years (other quarters, other numbers)."""

from __future__ import annotations

import pytest

from analytics import journeys
from analytics.bootstrap import load_sample_files
from analytics.sample import write_sample_company
from analytics.warehouse import Warehouse


@pytest.fixture(scope="session")
def small_company(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A generated company of 600 customers over two years (seed 11), journeys built."""
    folder = tmp_path_factory.mktemp("small_company")
    files = write_sample_company(folder / "files", customers=600, seed=11, years=2)
    warehouse = Warehouse(folder / "warehouse")
    for loaded in load_sample_files(warehouse, files, user="tester"):
        assert loaded.loaded, loaded.message
    journeys.refresh(warehouse)
    return warehouse


@pytest.fixture(params=["sample", "small"])
def company(request: pytest.FixtureRequest) -> Warehouse:
    """Each company with its journeys built (the sample's build is shared by the session)."""
    if request.param == "small":
        return request.getfixturevalue("small_company")
    sample: Warehouse = request.getfixturevalue("sample_warehouse")
    journeys.refresh(sample)
    return sample
