# The two set-up-and-run commands of the README. Only python3 (3.11+) and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out/luzhou-2020
PUTUO  ?= out/shanghai-putuo-shgzb-2024

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
	$(BIN)/juesuan check examples/shanghai-putuo-shgzb-2024
	$(BIN)/juesuan build examples/shanghai-putuo-shgzb-2024 -o $(PUTUO)
	@echo
	@echo "结果在 $(OUT)/：部门决算公开文本（.docx、.pdf、.html）、附表（.xlsx，14 张表）、figures/、checks.json（全部审核结果）、manifest.json（清单）、公开包 .zip、示例数据.xlsx、空白数据模板.xlsx"
	@echo "上海 2024 格式的实例（普陀区委社会工作部）在 $(PUTUO)/：公开文本、附表（9 张表）、审核结果与公开包"

test: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q

# Every benchmark in turn (payroll only where PostgreSQL answers), then one table of them all.
# The sources are compiled first, as an installed package's are, so that no timed process pays
# for compiling them (PYTHONDONTWRITEBYTECODE, where set, would otherwise make every run do so).
bench: $(VENV)/.installed
	$(BIN)/python -m compileall -q src
	$(BIN)/python bench/summary.py

clean:
	rm -rf $(VENV) out build src/*.egg-info
