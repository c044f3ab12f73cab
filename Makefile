# Two commands: `make run` and `make test`. Everything else is set up on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark
PORT ?= 8501

.PHONY: run test lint typecheck browser sample bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Touchpoint needs Python 3.11 or newer, found " + sys.version.split()[0]' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The Spark engine's extra (pyspark, sqlglot) and Java 17 (Debian's openjdk-17-jre-headless,
# installed when root, like Chromium): the test suite runs every engine.
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,spark]'
	@if ! command -v java >/dev/null && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing from Debian: openjdk-17-jre-headless"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi
	touch $(SPARK_STAMP)

# Azurite, Azure Storage's emulator (from the npm registry), for the tests of a warehouse on
# object storage; moto's S3 server comes with the dev extra. Without npm those tests skip.
AZURITE := $(VENV)/azurite/node_modules/.bin/azurite-blob
AZURITE_VERSION := 3.35.0
$(AZURITE): | $(STAMP)
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix $(VENV)/azurite azurite@$(AZURITE_VERSION); \
	else echo "npm not found: the Azure storage tests will skip"; fi

# Bytecode ahead of the start (only what changed is compiled again): where Python is told not
# to write it (PYTHONDONTWRITEBYTECODE), every start would compile every module again.
run: $(STAMP) browser
	$(BIN)/python -m compileall -q analytics dashboard
	$(BIN)/python -m streamlit run dashboard/server.py --server.port $(PORT) --server.address localhost

# Debian's chromium draws the review's PDF and PowerPoint files and runs the browser tests;
# poppler-utils (pdftoppm, pdftotext) lets the tests look inside the PDFs.
browser:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing=" chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing from Debian:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) $(SPARK_STAMP) $(AZURITE) browser lint typecheck
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing the run"; exit 1; fi; \
	exit $$status

sample: $(STAMP)
	$(BIN)/python -m analytics sample --out data/sample

# Every benchmark (hours on 2 cores), then one table of the speed figures (bench/all.py).
bench: $(STAMP) browser
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .mypy_cache .ruff_cache
