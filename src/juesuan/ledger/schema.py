"""The dataset format: which tables a unit-year dataset has and what each column accepts.

One declaration serves the folder form (`<table>.csv`), the workbook form (one sheet per table,
Chinese sheet and column names, drop-down lists) and the empty template. Headers are matched by
Chinese title or English key or any listed alias, ignoring spaces and bracket style.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---- vocabularies (the drop-down lists) -----------------------------------------------------

PHASES = ("年初预算", "调整预算", "决算")
ACTUAL = "决算"

FISCAL_FUNDS = (
    "一般公共预算财政拨款",
    "政府性基金预算财政拨款",
    "国有资本经营预算财政拨款",
)
FUNDS = (
    *FISCAL_FUNDS,
    "上级补助收入",
    "事业收入",
    "经营收入",
    "附属单位上缴收入",
    "其他收入",
)
GENERAL_BUDGET = FISCAL_FUNDS[0]

INCOME = "收入"
SPENDING = "支出"
OPENING_BALANCE = "年初结转和结余"
CLOSING_BALANCE = "年末结转和结余"
USE_OF_NONFISCAL_BALANCE = "使用非财政拨款结余"
BALANCE_DISTRIBUTION = "结余分配"
BALANCE_KINDS = (OPENING_BALANCE, CLOSING_BALANCE, USE_OF_NONFISCAL_BALANCE, BALANCE_DISTRIBUTION)
DIRECTIONS = (INCOME, SPENDING, *BALANCE_KINDS)

PERSONNEL = "人员经费"
PUBLIC = "公用经费"
PROJECT = "项目支出"
NATURES = (PERSONNEL, PUBLIC, PROJECT, "上缴上级支出", "经营支出", "对附属单位补助支出")
BASIC_NATURES = (PERSONNEL, PUBLIC)

THREE_PUBLIC_ITEMS = (
    "因公出国（境）费",
    "公务用车购置费",
    "公务用车运行维护费",
    "国内公务接待费",
    "外事接待费",
)
PROCUREMENT_KINDS = ("货物", "工程", "服务")
# What the text says each 三公 item was spent on ("主要用于…"), besides each 项's purpose.
PURPOSE_ITEMS = ("因公出国（境）费", "公务用车购置费", "公务用车运行维护费", "公务接待费")
REASON_KINDS = ("同比变动", "预决算差异")


# A workbook's parts may unpack to at most this many bytes in all, judged by the sizes the zip
# declares before anything is inflated (zipfile stops any part at its declared size). 100 MB is
# about 400,000 filled rows, far beyond one unit's year, and bounds the memory and time a
# hostile file (a "zip bomb") can take.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024

# ---- column and table declarations ----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # English id, also accepted as a header
    title: str  # Chinese header, as written in the workbook
    kind: str  # text | amount | count | number | function_code | economic_code | choice | date
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None
    aliases: tuple[str, ...] = ()
    help: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.title, self.key, *self.aliases)


@dataclass(frozen=True)
class Table:
    key: str  # file stem in the folder form
    title: str  # sheet name in the workbook form
    columns: tuple[Column, ...]
    help: str
    required: bool = False  # a dataset without this table is incomplete
    unique: tuple[str, ...] = field(default_factory=tuple)  # columns that identify a row

    @property
    def file(self) -> str:
        return f"{self.key}.csv"

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _phase(default: str = ACTUAL) -> Column:
    return Column(
        "phase",
        "阶段",
        "choice",
        choices=PHASES,
        default=default,
        help="年初预算、调整预算或决算；空着即决算",
    )


def _fund(required: bool = True, default: str | None = None) -> Column:
    return Column(
        "fund",
        "资金来源",
        "choice",
        required=required,
        choices=FUNDS,
        default=default,
        aliases=("收入类别", "资金性质"),
        help="财政拨款三类或其他收入来源",
    )


def _function(required: bool) -> Column:
    return Column(
        "function_code",
        "功能分类科目编码",
        "function_code",
        required=required,
        aliases=("功能分类", "功能科目编码", "科目编码"),
        help="支出功能分类，类/款/项为 3/5/7 位，如 2080109",
    )


def _code_name(key: str, title: str) -> Column:
    return Column(key, title, "text", help="可不填；填了就核对与编码是否一致")


def _amount(key: str = "amount", title: str = "金额", required: bool = True, **kw) -> Column:
    return Column(
        key,
        title,
        "amount",
        required=required,
        help=kw.pop("help", "以元为单位，最多两位小数"),
        **kw,
    )


NOTE = Column("note", "备注", "text", aliases=("说明",))
# In a consolidated (汇总) dataset each line keeps the unit it came from; a unit's own data
# leaves it empty.
LINE_UNIT = Column("unit", "所属单位", "text", help="汇总数据中此笔所属单位；本单位数据不填")

INCOME_TABLE = Table(
    "income",
    "收入",
    (
        _phase(),
        _fund(),
        _function(required=False),
        _code_name("function_name", "功能分类科目名称"),
        _amount(),
        LINE_UNIT,
        NOTE,
    ),
    "本年各项收入（及收入预算），按收入来源与其所支持的功能分类科目填列。",
    required=True,
)

SPENDING_TABLE = Table(
    "spending",
    "支出",
    (
        _phase(),
        _fund(),
        _function(required=True),
        _code_name("function_name", "功能分类科目名称"),
        Column(
            "economic_code",
            "经济分类科目编码",
            "economic_code",
            aliases=("经济分类", "经济科目编码"),
            help="部门预算支出经济分类，类/款为 3/5 位，如 30101；基本支出必填",
        ),
        _code_name("economic_name", "经济分类科目名称"),
        Column(
            "nature", "支出性质", "choice", required=True, choices=NATURES, aliases=("支出类型",)
        ),
        Column("project", "项目名称", "text", aliases=("项目",), help="项目支出必填"),
        _amount(),
        LINE_UNIT,
        NOTE,
    ),
    "本年各项支出（及支出预算），按功能分类到项、经济分类到款填列。",
    required=True,
)

BALANCES_TABLE = Table(
    "balances",
    "结转结余",
    (
        Column("kind", "类型", "choice", required=True, choices=BALANCE_KINDS),
        _fund(),
        _function(required=False),
        _amount(),
        LINE_UNIT,
        NOTE,
    ),
    "年初结转和结余、年末结转和结余、使用非财政拨款结余、结余分配。无则留空表。",
)

THREE_PUBLIC_TABLE = Table(
    "three_public",
    "三公经费",
    (
        Column("item", "项目", "choice", required=True, choices=THREE_PUBLIC_ITEMS),
        _fund(required=False, default=GENERAL_BUDGET),
        _amount("budget", "预算数", required=True),
        _amount("actual", "决算数", required=True),
        Column(
            "batches",
            "批次",
            "count",
            aliases=("团组数", "批次（团组）"),
            help="接待批次或出国团组数",
        ),
        Column("persons", "人次", "count", aliases=("人数",)),
        NOTE,
    ),
    "“三公”经费财政拨款预算与决算，接待与出国须填批次与人次。",
    unique=("item", "fund"),
)

PROCUREMENT_TABLE = Table(
    "procurement",
    "政府采购",
    (
        Column("kind", "类别", "choice", required=True, choices=PROCUREMENT_KINDS),
        _amount("amount", "采购金额"),
        _amount("sme_amount", "授予中小企业合同金额", required=False),
        _amount("small_micro_amount", "其中授予小微企业合同金额", required=False),
        NOTE,
    ),
    "政府采购支出（以合同签订为准），按货物、工程、服务填列。",
    unique=("kind",),
)

FACTS_TABLE = Table(
    "facts",
    "其他事项",
    (
        Column("key", "事项", "text", required=True, help="见“填表说明”中的事项清单"),
        Column("value", "数值", "number", required=True),
        NOTE,
    ),
    "机关运行经费、人员、车辆与大型设备、预算绩效管理等数字。",
    unique=("key",),
)

UNITS_TABLE = Table(
    "units",
    "单位构成",
    (
        Column("name", "单位名称", "text", required=True, help="如：上海市XX局（本级）"),
        NOTE,
    ),
    "纳入本部门决算编制范围的单位，本级在前，按公开时的顺序逐行填列；只有一个单位的可不填。",
    unique=("name",),
)

PURPOSES_TABLE = Table(
    "purposes",
    "主要用途",
    (
        Column(
            "topic",
            "科目或事项",
            "text",
            required=True,
            aliases=("功能分类科目编码", "科目编码"),
            help="功能分类项级编码（7位，如 2013901），或“三公”经费的" + "、".join(PURPOSE_ITEMS),
        ),
        Column(
            "purpose",
            "主要用于",
            "text",
            required=True,
            aliases=("用途", "开支内容"),
            help="正文“主要用于：…”之后的文字，如：行政单位人员支出、公用支出",
        ),
    ),
    "情况说明中每个项级科目（及“三公”经费各项）的“主要用于：…”。",
    unique=("topic",),
)

PRIOR_YEAR_TABLE = Table(
    "prior_year",
    "上年数",
    (
        Column(
            "key",
            "项目",
            "text",
            required=True,
            help="见“填表说明”中的上年数项目，或功能分类类级编码",
        ),
        _amount("amount", "上年决算数"),
        NOTE,
    ),
    "上年度决算公开中的数字，用于同比分析。",
    unique=("key",),
)

PROJECTS_TABLE = Table(
    "projects",
    "项目",
    (
        Column("name", "项目名称", "text", required=True),
        Column("code", "项目编码", "text"),
        Column("kind", "项目类别", "text", help="如：代发补贴、工作经费"),
        NOTE,
    ),
    "本年有预算或支出的项目；支出表中的项目名称须在此登记。",
    unique=("name",),
)

REASONS_TABLE = Table(
    "reasons",
    "变动原因",
    (
        Column("kind", "类型", "choice", required=True, choices=REASON_KINDS),
        Column("topic", "事项", "text", required=True, help="如：收支总计、公务接待费、2089999"),
        Column("reason", "原因", "text", required=True),
    ),
    "同比变动和预决算差异的主要原因；超过阈值的变动必须说明。",
    unique=("kind", "topic"),
)

TEXTS_TABLE = Table(
    "texts",
    "文字说明",
    (
        Column("key", "标题", "text", required=True),
        Column("body", "内容", "text", required=True),
    ),
    "部门概况等文字。文件夹形式下每段文字是 texts/标题.md。",
    unique=("key",),
)

# ---- performance (预算绩效) ------------------------------------------------------------------
# Cells are kept as written; juesuan.performance parses targets, actuals and sources and scores
# them. Validation here checks only what the format itself can judge (registered projects,
# vocabularies, numbers).

QUALITATIVE = "定性"
DIRECTIONS_OF_INDICATORS = ("≥", ">", "=", "≤", "<", QUALITATIVE)
DIRECTION_SYNONYMS = {
    "正向": "≥",
    "正向指标": "≥",
    ">=": "≥",
    "≧": "≥",
    "＞＝": "≥",
    "大于等于": "≥",
    "不低于": "≥",
    "＞": ">",
    "大于": ">",
    "＝": "=",
    "==": "=",
    "等于": "=",
    "反向": "≤",
    "反向指标": "≤",
    "<=": "≤",
    "≦": "≤",
    "＜＝": "≤",
    "小于等于": "≤",
    "不高于": "≤",
    "＜": "<",
    "小于": "<",
    "定性指标": "定性",
}
TIERS = ("达成", "部分达成", "未达成")
TIER_SYNONYMS = {
    "达成年度指标": "达成",
    "部分达成年度指标并具有一定效果": "部分达成",
    "部分达成年度指标": "部分达成",
    "未达成年度指标且效果较差": "未达成",
    "未达成年度指标": "未达成",
}
REPORTED = "填报"  # 实际值来源: typed in
COMPUTED_PREFIX = "计算:"  # 实际值来源: 计算:<name>, computed from the ledger or 绩效数据

INDICATORS_TABLE = Table(
    "indicators",
    "绩效指标",
    (
        Column("project", "项目名称", "text", required=True, aliases=("项目",)),
        Column("level1", "一级指标", "text", required=True, help="如：产出指标、效益指标"),
        Column("level2", "二级指标", "text", required=True, help="如：数量指标、成本指标"),
        Column("level3", "三级指标", "text", required=True, aliases=("指标名称",)),
        Column(
            "direction",
            "方向",
            "choice",
            choices=DIRECTIONS_OF_INDICATORS,
            aliases=("指标性质", "指标方向"),
            help="≥、>、=、≤、< 或 定性；正向即 ≥，反向即 ≤；空着则按指标值中的比较符，"
            "文字指标值为定性",
        ),
        Column(
            "target",
            "指标值",
            "text",
            required=True,
            aliases=("年度指标值", "预期指标值", "预期指标值（包含数字及文字描述）"),
            help="数字（如 644、1.71万元/人、≥95%、<1%）或文字（如 每月20日前发放到位）",
        ),
        Column("unit", "计量单位", "text", aliases=("度量单位", "单位"), help="如：人、万元、%"),
        Column(
            "weight",
            "分值",
            "number",
            aliases=("权重",),
            help="可不填：不填的由评分规则在所属一级指标内平均分配",
        ),
        Column(
            "actual",
            "实际完成值",
            "text",
            aliases=(
                "完成值",
                "全年实际值",
                "实际完成指标值",
                "实际完成指标值（包含数字及文字描述）",
            ),
            help="数字或文字，照原样填写",
        ),
        Column(
            "tier",
            "完成档次",
            "choice",
            choices=TIERS,
            help="定性指标必填：达成、部分达成、未达成",
        ),
        Column(
            "actual_source",
            "实际值来源",
            "text",
            default=REPORTED,
            help="填报，或 计算:名称（如 计算:发放人数），由账上数据或“绩效数据”表计算；"
            "计算时“实际完成值”是文中所写的值，用来核对",
        ),
        Column(
            "score", "得分", "number", help="可不填；填了就与计算的得分核对，定性指标按所填得分"
        ),
        Column(
            "reason",
            "偏差原因及改进措施",
            "text",
            aliases=("偏差原因分析及改进措施", "未完成原因分析"),
        ),
        NOTE,
    ),
    "项目绩效目标完成情况表中的绩效指标：一级、二级、三级指标，指标值与实际完成值。",
    unique=("project", "level1", "level2", "level3"),
)

PROJECT_GOALS_TABLE = Table(
    "project_goals",
    "项目目标",
    (
        Column("project", "项目名称", "text", required=True, aliases=("项目",)),
        Column("expected", "预期目标", "text", aliases=("年度目标", "项目年度目标")),
        Column("achieved", "实际完成目标", "text", aliases=("实际完成情况", "年度目标完成情况")),
        Column("problems", "主要问题", "text", aliases=("存在问题", "发现的主要问题")),
        Column("measures", "改进措施", "text", aliases=("下一步改进措施",)),
        Column(
            "stated_rate",
            "执行率",
            "text",
            aliases=("预算执行率", "完成预算"),
            help="可不填：文中所写的预算执行率（如 86.33%），与账上计算值核对",
        ),
        NOTE,
    ),
    "项目年度目标与完成情况、发现的主要问题和改进措施（绩效目标完成情况综述与评价报告）。",
    unique=("project",),
)

MONITORING_TABLE = Table(
    "monitoring",
    "绩效监控",
    (
        Column(
            "project",
            "项目名称",
            "text",
            aliases=("项目",),
            help="空着即部门整体的预算执行进度",
        ),
        Column("period", "监控时点", "text", required=True, help="如 2020-06、6月"),
        Column("planned", "计划执行进度", "number", help="百分数，如 50 或 50%"),
        Column("actual", "实际执行进度", "number", required=True, help="百分数，如 47.5 或 47.5%"),
        Column("reason", "偏差原因", "text"),
        Column("action", "纠偏措施", "text"),
        NOTE,
    ),
    "绩效监控：各监控时点的计划与实际预算执行进度，偏差原因和纠偏措施。",
    unique=("project", "period"),
)

DEPARTMENT_SCORES_TABLE = Table(
    "department_scores",
    "部门整体自评",
    (
        Column(
            "item",
            "指标",
            "text",
            required=True,
            help="部门整体评分表的末级指标：编号、名称或 一级/二级/三级 路径",
        ),
        Column("score", "得分", "number", help="由账上数据计算的指标可不填；填了就核对"),
        Column("explanation", "说明", "text", help="评分依据"),
        Column("note", "备注", "text"),
    ),
    "部门整体支出绩效自评：评分表末级指标的得分与说明。",
    unique=("item",),
)

PERFORMANCE_DATA_TABLE = Table(
    "performance_data",
    "绩效数据",
    (
        Column("project", "项目名称", "text", required=True, aliases=("项目",)),
        Column(
            "key",
            "数据项",
            "text",
            required=True,
            help="如：发放人数、发放笔数、失败退回笔数、发放金额（元）",
        ),
        Column("value", "数值", "number", help="人数、笔数为整数，金额以元为单位"),
        Column(
            "sum_of",
            "汇总项目",
            "text",
            help="不填数值时，为所列项目（以、分隔）同一数据项之和",
        ),
        NOTE,
    ),
    "计算绩效指标实际值所需的数据（发放人数、笔数、退回笔数等）；代发系统接入后由其提供。",
    unique=("project", "key"),
)

# What a 绩效数据 key holds, where it is not a plain number.
PERFORMANCE_DATA_KINDS = {
    "发放人数": "count",
    "发放笔数": "count",
    "失败退回笔数": "count",
    "发放月数": "count",
    "发放金额": "amount",
}

TABLES: tuple[Table, ...] = (
    INCOME_TABLE,
    SPENDING_TABLE,
    BALANCES_TABLE,
    THREE_PUBLIC_TABLE,
    PROCUREMENT_TABLE,
    FACTS_TABLE,
    PRIOR_YEAR_TABLE,
    PROJECTS_TABLE,
    REASONS_TABLE,
    UNITS_TABLE,
    PURPOSES_TABLE,
    INDICATORS_TABLE,
    PROJECT_GOALS_TABLE,
    MONITORING_TABLE,
    DEPARTMENT_SCORES_TABLE,
    PERFORMANCE_DATA_TABLE,
)
LINE_TABLES = (INCOME_TABLE, SPENDING_TABLE, BALANCES_TABLE)

# ---- unit.toml / 单位信息 --------------------------------------------------------------------

UNIT_FIELDS: tuple[Column, ...] = (
    Column("name", "单位名称", "text", required=True),
    Column("code", "单位编码", "text", help="预算单位编码，如 308503"),
    Column("year", "年度", "count", required=True),
    Column(
        "format", "公开格式", "text", default="sichuan-2020", help="如 sichuan-2020、national-9"
    ),
    Column("kind", "单位性质", "text", help="如：行政单位、参照公务员法管理的事业单位、事业单位"),
    Column("department", "主管部门", "text"),
    Column(
        "yoy_reason_threshold",
        "同比变动须说明原因的阈值",
        "number",
        default="0.10",
        help="0.10 即 10%",
    ),
    Column("budget_reason_threshold", "预决算差异须说明原因的阈值", "number", default="0.10"),
)

# ---- keys accepted in 其他事项 and 上年数 ------------------------------------------------------

# key -> kind ('amount' in 元, 'count', 'number'). English aliases on the right.
FACT_KEYS: dict[str, str] = {
    "机关运行经费": "amount",
    "编制人数": "count",
    "实有在职人数": "count",
    "离退休人数": "count",
    "车辆总数": "count",
    "车辆-部级领导干部用车": "count",
    "车辆-主要领导干部用车": "count",
    "车辆-机要通信用车": "count",
    "车辆-应急保障用车": "count",
    "车辆-执法执勤用车": "count",
    "车辆-特种专业技术用车": "count",
    "车辆-离退休干部用车": "count",
    "车辆-其他用车": "count",
    "公务用车购置数量": "count",
    "公务用车保有量": "count",
    "单价50万元以上通用设备": "count",
    "单价100万元以上专用设备": "count",
    "单价100万元以上设备": "count",
    "政府采购-面向中小企业预留": "amount",
    "政府采购-面向小微企业预留": "amount",
    "政府采购-中小企业预留项目由中小企业中标": "amount",
    "政府采购-小微企业预留项目由小微企业中标": "amount",
    "政府采购-其他项目由中小企业中标": "amount",
    "绩效目标项目数": "count",
    "绩效目标项目预算金额": "amount",
    "绩效监控项目数": "count",
    "绩效监控项目预算金额": "amount",
    "绩效自评项目数": "count",
    "绩效自评项目预算金额": "amount",
    "绩效自评平均得分": "number",
    "绩效评级-优": "count",
    "绩效评级-良": "count",
    "绩效评级-合格": "count",
    "绩效评级-不合格": "count",
    "绩效自评发现问题数": "count",
    "绩效自评已整改问题数": "count",
    "绩效自评正在整改问题数": "count",
    "自行组织绩效评价项目数": "count",
    "部门整体绩效自评得分": "number",
}

# What a 其他事项 key means where its name alone does not say (填表说明).
FACT_HELP: dict[str, str] = {
    "公务用车购置数量": "本年用财政拨款购置的公务用车辆数",
    "公务用车保有量": "年末开支财政拨款的公务用车保有量（辆）",
    "单价100万元以上设备": "单价100万元（含）以上的设备（不含车辆）台（套）数，通用与专用设备都算",
    "政府采购-面向中小企业预留": "面向中小企业预留的政府采购项目预算金额",
    "政府采购-面向小微企业预留": "面向小微企业预留的政府采购项目预算金额（不超过面向中小企业预留的）",
    "政府采购-中小企业预留项目由中小企业中标": "面向中小企业预留的项目中，由中小企业供应商中标或成交的采购金额",
    "政府采购-小微企业预留项目由小微企业中标": "面向小微企业预留的项目中，由小微企业供应商中标或成交的采购金额",
    "政府采购-其他项目由中小企业中标": "其他（未预留的）项目中，由中小企业供应商中标或成交的采购金额",
    "绩效目标项目预算金额": "编报绩效目标的本年度项目涉及的预算金额",
    "绩效监控项目数": "绩效跟踪（监控）评价的本年度项目数",
    "绩效监控项目预算金额": "绩效跟踪（监控）评价的项目涉及的预算金额",
    "绩效自评项目预算金额": "绩效自评的项目涉及的预算金额",
    "绩效自评平均得分": "绩效自评项目的平均得分（0–100）",
    "绩效评级-优": "绩效自评评级为“优”的项目数；优、良、合格、不合格之和为绩效自评项目数",
    "绩效自评已整改问题数": "绩效自评发现的问题中已经完成整改的个数",
    "绩效自评正在整改问题数": "绩效自评发现的问题中正在整改的个数",
}

PRIOR_YEAR_KEYS: tuple[str, ...] = (
    "收支总计",
    "本年收入合计",
    "本年支出合计",
    "财政拨款收支总计",
    "一般公共预算财政拨款支出",
    "政府性基金预算财政拨款支出",
    "国有资本经营预算财政拨款支出",
    "年初预算",
    "三公经费",
    *THREE_PUBLIC_ITEMS,
    "公务用车购置及运行维护费",
    "公务接待费",
    "机关运行经费",
    "政府采购",
)
