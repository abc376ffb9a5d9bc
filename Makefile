# The developer commands (README, "Developing"). Each runs the tools in .venv.
.PHONY: install lint format typecheck unit test bench demo lock translations

VENV := .venv/bin

install:  ## PostgreSQL + PostGIS, Node.js, .venv from requirements.lock, node_modules
	scripts/install.sh

lint:  ## ruff (lint and format check) and the import layers
	$(VENV)/ruff check
	$(VENV)/ruff format --check
	$(VENV)/lint-imports

format:  ## rewrite the files the way `ruff format --check` wants them
	$(VENV)/ruff check --fix
	$(VENV)/ruff format

typecheck:  ## mypy over the packages, bench/ and tests/ (pyproject.toml lists them)
	$(VENV)/mypy

unit:  ## the tests that need no database
	$(VENV)/python -m pytest -m unit -q

test:  ## the README's test command: install, the gates, then the whole suite
	scripts/test.sh

bench:  ## every benchmark (bench/results/)
	$(VENV)/python -m bench.run

demo:  ## install, load Los Angeles, serve http://127.0.0.1:5000
	scripts/demo.sh

lock:  ## requirements.lock from pyproject.toml (the dependencies and the dev extra), hashed
	$(VENV)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

translations:  ## the interface's strings into app/translations/*/messages.po (extract, update), then compiled
	$(VENV)/pybabel extract --mapping-file babel.cfg --no-location --sort-by-file --project geo311 --omit-header --keywords N_ --output-file var/messages.pot .
	$(VENV)/pybabel update --input-file var/messages.pot --output-dir app/translations --no-fuzzy-matching --ignore-obsolete
	$(VENV)/pybabel compile --directory app/translations --statistics
