# Set-up and checks. `make install` needs root for the Debian packages the tests use.
SHELL := /bin/bash
VENV := .venv
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
APT_PACKAGES := pacemaker-cli-utils pacemaker-doc etcd-server etcd-client resource-agents pacemaker-resource-agents fence-agents iproute2 nftables iputils-arping podman runc busybox-static \
	debootstrap redis-server haproxy util-linux curl mariadb-client python3-pika

.PHONY: install apt venv test lint fmt bench clean oracle lab lab-down

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

OPENSTACK_LAB_TESTS = tests/lab/test_lab_openstack.py tests/lab/test_check_openstack.py
test: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy
	@# the openstack lab's tests run alone, after the rest: three controllers of real
	@# Galera, RabbitMQ and Redis fill this 2-core machine, and with another lab test
	@# beside them (load 24) rabbitmq-cluster's notify and monitor timed out and RabbitMQ
	@# split, 3 CI runs of 3 (2026-12-07)
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q $(OPENSTACK_LAB_TESTS:%=--ignore=%)
	$(VENV)/bin/pytest -q $(OPENSTACK_LAB_TESTS)

# A 3-controller cluster in network namespaces on this machine (root): the seeds' control
# plane (LAB_PROFILE=openstack) or VIPs + haproxy + redis (minimal). A lab already up is
# replaced. `make lab-down` removes it all.
LAB_PROFILE ?= openstack
LAB_NODES ?= 3
LAB_STORE ?= etcd
lab: install
	@if [ -f /var/lib/hakeeper/lab/lab.json ]; then \
	  echo "a lab is up: replacing it"; $(VENV)/bin/hakeeper lab down; fi
	$(VENV)/bin/hakeeper lab up --profile $(LAB_PROFILE) --nodes $(LAB_NODES) --store $(LAB_STORE)
	@$(VENV)/bin/hakeeper lab status
	@echo
	@echo "Try:"
	@echo "  curl http://172.17.1.10:5000/                       # the API through HAProxy on the internal VIP"
	@echo "  redis-cli -h 172.17.1.11 set k v                    # redis through its VIP"
	@echo "  curl 'http://172.17.1.10:1993/;csv'                 # HAProxy's stats"
	@echo "  $(VENV)/bin/hakeeper lab fail kill ctl0 haproxy     # a crash: watch it restart"
	@echo "  $(VENV)/bin/hakeeper lab fail node ctl1             # power a controller off"
	@echo "  $(VENV)/bin/hakeeper lab fail partition ctl2        # cut its link"
	@echo "  $(VENV)/bin/hakeeper lab fail heal                  # undo: links up, nodes boot"
	@echo "  $(VENV)/bin/hakeeper lab status                     # where everything runs now"
	@echo "  $(VENV)/bin/hakeeper lab down                       # remove it all"

lab-down:
	$(VENV)/bin/hakeeper lab down

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
