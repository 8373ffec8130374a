# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run   - install, build both halves of the handbook, migrate the database, serve at http://127.0.0.1:$(PORT)/
#                with the notification worker beside the server (messages go to the log)
#   make test  - install the same way, check the code with ruff (make lint) and run every test
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Material prints a banner about MkDocs 2 on every build; it says nothing about our site.
export NO_MKDOCS_2_WARNING := 1
WORKERS ?= 2
# Where each process that starts the app finds the staff handbook's sections already read
# (forms_app/training/handbook_sections.py); git-ignored, named by what they were read from.
export HANDBOOK_CACHE_DIR ?= $(CURDIR)/build/handbook-cache
# Where every process finds the templates already compiled (forms_app/web/compiled_templates.py).
export TEMPLATE_CACHE_DIR ?= $(CURDIR)/build/template-cache
STAMP := $(VENV)/.installed-stamp

.PHONY: install site db run lint test pdf clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Both halves of the handbook for every community (data/communities/*.yml): its public owner
# guide (site/<id>/) and its staff handbook (site-staff/<id>/, served under /staff/ to
# logged-in staff only), in parallel, each rebuilt only when what it is built from changed.
site: install
	$(PY) scripts/build_sites.py

# The printable owner handbook as a PDF (site/<id>/owner/handbook.pdf), linked from its print page.
pdf: install
	$(PY) scripts/build_sites.py --pdf

# The migrations, then each community's rooms the registry lacks (a new community file, a new
# building): adding a community is adding its file and running this.
db: install
	$(VENV)/bin/flask --app forms_app db upgrade
	$(VENV)/bin/flask --app forms_app households seed

run: pdf db
	@echo "业主指南: http://127.0.0.1:$(PORT)/   在线办理: http://127.0.0.1:$(PORT)/forms/   员工后台: http://127.0.0.1:$(PORT)/forms/staff/   员工手册 (登录后): http://127.0.0.1:$(PORT)/staff/ (首个账号: $(VENV)/bin/flask --app forms_app accounts create 用户名 --role 经理)"
	@echo "以上为示例小区「山水花园」(也可用 http://shanshui.localhost:$(PORT)/)；另一个示例小区「馨园」: http://xinyuan.localhost:$(PORT)/ (每个小区一个文件: data/communities/)"
	@# The notification worker runs beside gunicorn; when either stops (Ctrl-C, a crash), both do.
	@# Links in messages are built from the site's address only (PUBLIC_BASE_URL); locally, this one.
	@PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}" bash -c '$(VENV)/bin/flask --app forms_app notifications worker & worker=$$!; \
		$(VENV)/bin/gunicorn --workers $(WORKERS) --threads 4 --preload --bind 127.0.0.1:$(PORT) \
			--access-logfile - --logger-class forms_app.core.access_log.PrivateLinksLogger \
			forms_app.wsgi:app & server=$$!; \
		trap "kill $$worker $$server 2>/dev/null" INT TERM; \
		wait -n; status=$$?; kill $$worker $$server 2>/dev/null; wait; exit $$status'

# ruff's rules and formatting (settings in pyproject.toml); make test runs it first.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The suite starts about a hundred Python processes (test workers, gunicorn servers, flask
# commands, handbook builds): with PYTHONDONTWRITEBYTECODE set in the environment each would
# compile the app and the tests anew, so make test keeps the (git-ignored) bytecode caches.
test: install lint
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/pytest

clean:
	rm -rf site site-staff .pytest_cache
