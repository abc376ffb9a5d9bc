# The developer commands (README, "Developing"). Each runs the tools in .venv.
.PHONY: install lint format typecheck unit test bench demo lock

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
