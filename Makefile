# The two commands of the README:
#   make demo   the whole job on the built-in sample organisation (sets up .venv first)
#   make test   lint, type-check and the full test suite, real LDAP servers included
#
# Both build a project virtual environment (.venv) from this checkout's own files, so nothing
# installed by hand can hide a missing step, and a Debian/Ubuntu system Python (PEP 668) works.
BOOTSTRAP_PYTHON ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
# Debian packages the integration tests start: OpenLDAP slapd and a Samba AD DC. Their
# system services are kept from starting: the tests start their own on 127.0.0.1, and Samba's
# LDAP ports (389/636) must be free.
SERVER_PACKAGES := slapd ldap-utils samba-ad-dc samba-ad-provision ldb-tools libldap2-dev libsasl2-dev postgresql libpq5 mariadb-server

.PHONY: demo test install install-dev servers lint typecheck venv

demo: install
	$(PYTHON) -m accessaudit demo --out accessaudit-demo

# The virtual environment. Debian's python3 lacks ensurepip until python3-venv is installed:
# install it when we are root with apt-get, otherwise say what is missing.
$(PYTHON):
	@$(BOOTSTRAP_PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	    $(BOOTSTRAP_PYTHON) -m venv $(VENV); \
	  else echo "cannot create $(VENV): install your Python's venv module (Debian: python3-venv)"; exit 2; fi; }
	$(PIP) install -q --upgrade pip

venv: $(PYTHON)

install: $(PYTHON)
	$(PIP) install -q -e .

# System packages: installed when we are root with apt-get (CI, a fresh machine); elsewhere
# the server tests skip with a reason unless CI=true.
servers:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(SERVER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	    rm -f /usr/sbin/policy-rc.d; \
	  fi; \
	  for service in slapd samba-ad-dc; do service $$service stop >/dev/null 2>&1 || true; done; \
	else echo "not root or no apt-get: server tests will skip unless CI=true"; fi

install-dev: servers $(PYTHON)
	$(PIP) install -q -e '.[dev,fast-ldap]'

lint: $(PYTHON)
	$(PYTHON) -m ruff check src tests $(wildcard bench)
	$(PYTHON) -m ruff format --check src tests $(wildcard bench)

typecheck: $(PYTHON)
	$(PYTHON) -m mypy

test: install-dev lint typecheck
	$(PYTHON) -m pytest
