# The two set-up-and-run commands of the README. Only python3 (3.11+) and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out/luzhou-2020

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/juesuan check examples/luzhou-2020
	$(BIN)/juesuan build examples/luzhou-2020 -o $(OUT)
	$(BIN)/juesuan export examples/luzhou-2020 $(OUT)/示例数据.xlsx --overwrite >/dev/null
	$(BIN)/juesuan template $(OUT)/空白数据模板.xlsx >/dev/null
	@echo
	@echo "结果在 $(OUT)/：部门决算公开文本（.docx、.pdf、.html）、附表（.xlsx，14 张表）、figures/、checks.json（全部审核结果）、manifest.json（清单）、公开包 .zip、示例数据.xlsx、空白数据模板.xlsx"

test: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

# Every benchmark in turn (payroll only where PostgreSQL answers), then one table of them all.
bench: $(VENV)/.installed
	$(BIN)/python bench/summary.py

clean:
	rm -rf $(VENV) out build src/*.egg-info
