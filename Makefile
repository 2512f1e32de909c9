# Set-up and checks. `make install` needs root for the Debian packages the tests use.
SHELL := /bin/bash
VENV := .venv
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
APT_PACKAGES := pacemaker-cli-utils pacemaker-doc etcd-server etcd-client resource-agents pacemaker-resource-agents fence-agents iproute2 iputils-arping podman runc busybox-static redis-server

.PHONY: install apt venv test lint fmt bench clean oracle

install: apt venv

apt:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  echo "installing Debian packages: $(APT_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

venv:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install -q --root-user-action=ignore uv
	uv sync --frozen --quiet --compile-bytecode
	@# this environment sets PYTHONDONTWRITEBYTECODE: compile once here, or every run
	@# of hakeeper recompiles its own modules (about 0.1-0.2 s per command)
	$(VENV)/bin/python -m compileall -q src
	@echo "hakeeper is at $(VENV)/bin/hakeeper"

test: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n 2 -q

# Only the comparisons with Pacemaker's crm_simulate (also part of `make test`).
oracle: install
	$(VENV)/bin/pytest -q -m oracle tests/oracle

lint:
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

fmt:
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

bench: install
	$(VENV)/bin/python benchmarks/scheduler.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
