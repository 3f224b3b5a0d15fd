"""Batch audits on Celery workers, on any number of machines that see the same folders (the
documents and the output folder on shared storage, under the same paths).

Start workers, as many machines and processes as wanted, with the coordinator's broker:

    celery -A juesuan.audit.batch_worker -b amqp://guest:guest@host:5672// worker -Q juesuan-audit-batch

then `juesuan audit-batch FOLDER -o OUT --celery BROKER_URL` hands out one task per document
(path and SHA-256), each worker writes the document's result into OUT itself, and the
coordinator, watching OUT, counts them in and writes the summary workbook at the end.

A task is acknowledged only when it ends, so a worker process that dies leaves the message to
be delivered again (at once on RabbitMQ, and on Redis when the worker process dies; when a
whole machine is lost, Redis gives its messages again after its visibility timeout, an hour by
default). A document that kills its worker process `CRASHES_ALLOWED` times is given up with a
result saying so, so one bad file cannot loop for ever.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from celery import Celery
from kombu.utils.url import maybe_sanitize_url

from juesuan.audit.batch import (
    CRASHES_ALLOWED,
    PARTIAL,
    BatchError,
    Item,
    audit_item,
    failed_row,
    load_result,
    row_of,
)

QUEUE = "juesuan-audit-batch"
WAIT_NOTICE = 60.0  # seconds without a result before the coordinator says it is waiting

app = Celery("juesuan-audit-batch", broker=os.environ.get("JUESUAN_BROKER_URL") or None)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,  # the result file in the output folder is the result
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
)


@app.task(name="juesuan.audit_batch_document")
def audit_batch_document(
    path: str, source: str, name: str, sha256: str, out: str, timeout: float
) -> None:
    item = Item(path, source, name, sha256)
    attempts = Path(out) / PARTIAL / f"{name}.attempts"
    tried = _count(attempts)
    if tried >= CRASHES_ALLOWED:
        reason = f"审核进程在这份文件上异常退出 {tried} 次（程序崩溃或内存耗尽），未能审核"
        failed_row(item, out, reason)
    else:
        attempts.parent.mkdir(parents=True, exist_ok=True)
        attempts.write_text(str(tried + 1), encoding="utf-8")
        audit_item(item, out, timeout)
    attempts.unlink(missing_ok=True)


def _count(path: Path) -> int:
    try:
        return int(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0


def run_celery(
    items: list[Item], out: str | Path, broker: str, queue: str | None, timeout: float
) -> Iterator[dict]:
    """Send one task per item to `queue` on `broker`, then yield each row as its result file
    appears in `out` with the item's SHA-256 (a result left there for an older version of the
    document is waited past)."""
    if not items:
        return
    out = Path(out).resolve()
    queue = queue or QUEUE
    app.conf.broker_url = broker
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=2)
    except Exception as exc:  # kombu's OperationalError, or OSError
        raise BatchError(
            f"无法连接任务队列 {maybe_sanitize_url(broker)}：{exc}。"
            "请确认 RabbitMQ 或 Redis 正在运行，地址写对了。"
        ) from exc
    with app.producer_pool.acquire(block=True) as producer:
        for item in items:
            audit_batch_document.apply_async(
                (item.path, item.source, item.name, item.sha256, str(out), timeout),
                queue=queue,
                producer=producer,
            )
    print(
        f"已向队列 {queue} 分派 {len(items)} 份；工作进程用 celery -A juesuan.audit.batch_worker "
        f"-b {maybe_sanitize_url(broker)} worker -Q {queue} 启动",
        file=sys.stderr,
        flush=True,
    )
    waiting = {item.name: item for item in items}
    stale: dict[str, int] = {}  # result files of an older version, by modification time
    last = time.monotonic()
    while waiting:
        arrived = False
        for entry in os.scandir(out):
            item = waiting.get(entry.name)
            if item is None:
                continue
            modified = entry.stat().st_mtime_ns
            if stale.get(entry.name) == modified:
                continue
            result = load_result(entry.path)
            if result is None or result["sha256"] != item.sha256:
                stale[entry.name] = modified
                continue
            del waiting[entry.name]
            arrived = True
            yield row_of(result)
        now = time.monotonic()
        if arrived:
            last = now
        elif now - last > WAIT_NOTICE:
            print(f"等待工作进程：还有 {len(waiting)} 份未完成", file=sys.stderr, flush=True)
            last = now
        if waiting:
            time.sleep(0.5)
