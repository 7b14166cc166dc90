"""The four scenarios of the bad day. Each drives the real services in this
process, breaks a real part (SIGKILL a worker, stop Redis, kill a report build,
take the webhook receiver away), then measures what arrived, from the outside
(email files, the receiver's log) and the database (rows not finished).

Import this only once Django is set up (`python -m chaos` does; so do the tests).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.test import Client

from accounts.models import TokenScope, User
from chaos.harness import OwnRedis, Process, Receiver, Result, sent_keys, wait_for
from proposals import notifications, services
from proposals.enums import DeliveryStatus, NotificationKind, ReportStatus
from proposals.models import Notification, Proposal, Report, WebhookDelivery, WebhookEndpoint

ANSWERS = {
    "summary": "Caseworkers retype 40,000 paper forms a year.",
    "problem": "Forms are retyped by hand, which is slow and error-prone.",
    "who_has_the_problem": "Caseworkers in the benefits team",
    "proposed_solution": "Use optical character recognition to read the forms.",
    "expected_benefits": "Faster decisions and fewer typing errors.",
    "cost_band": "10k_50k",
}
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED)


@dataclass
class Day:
    """What every scenario may break."""

    redis: OwnRedis
    worker: Process
    beat: Process
    email_dir: Path

    def restart_worker(self) -> None:
        """The runner's (or compose's) restart policy, at once."""
        self.worker.kill()
        self.worker.start()


def _emailed(day: Day, ids: set[str]) -> Counter[str]:
    return Counter({k: v for k, v in sent_keys(day.email_dir).items() if k in ids})


def _result(name: str, day: Day, ids: set[str], drain: float | None, allowed: int) -> Result:
    emailed = _emailed(day, ids)
    unique = len(emailed)
    return Result(
        scenario=name,
        created=len(ids),
        delivered=sum(emailed.values()),
        unique=unique,
        lost=len(ids) - unique,
        stuck=Notification.objects.filter(pk__in=ids, status__in=UNFINISHED).count(),
        drain_seconds=drain,
        duplicates_allowed=allowed,
    )


def notifications_under_kills(
    day: Day,
    *,
    department_id: int,
    count: int = 1000,
    kills: int = 5,
    redis_restarts: int = 1,
    timeout: float = 180,
) -> Result:
    """`count` notifications; the worker SIGKILLed `kills` times while sending, and
    Redis restarted (losing every queued message) `redis_restarts` times."""
    tag = uuid.uuid4().hex[:6]
    people = User.objects.bulk_create(
        User(
            email=f"chaos-{tag}-{n}@dfe.example",
            full_name=f"Person {n}",
            department_id=department_id,
            password="!",  # noqa: S106 - an unusable password: they never sign in
        )
        for n in range(count)
    )
    with transaction.atomic():
        batch = notifications.notify(
            recipients=people, kind=NotificationKind.COMMENT, subject="Chaos", body="One of many"
        )
    ids = {str(row.pk) for row in batch}
    sent = Notification.objects.filter(pk__in=ids, status=DeliveryStatus.SENT)
    deadline = time.monotonic() + timeout
    faults = [("kill", 0.1 + 0.6 * i / max(kills - 1, 1)) for i in range(kills)]
    faults += [("redis", 0.8 + 0.1 * i) for i in range(redis_restarts)]
    last_fault = time.monotonic()
    for fault, share in faults:
        threshold = int(count * share)

        def reached(t: int = threshold) -> bool:
            return sent.count() >= t

        wait_for(reached, timeout=deadline - time.monotonic())
        if fault == "kill":
            day.restart_worker()
        else:
            day.redis.restart()
        last_fault = time.monotonic()
    done = wait_for(
        lambda: sent.count() == count, timeout=max(deadline - time.monotonic(), 0), every=0.5
    )
    drain = time.monotonic() - last_fault if done else None
    restarts = f"{redis_restarts} Redis restart{'s' if redis_restarts != 1 else ''}"
    return _result(
        f"{count} notifications, {kills} worker kills, {restarts}", day, ids, drain, kills
    )


class RolledBack(Exception):
    """Raised inside a submission's transaction to undo it."""


def submissions_with_redis_down(
    day: Day,
    *,
    author: User,
    count: int = 500,
    outage: float = 30.0,
    timeout: float = 120,
) -> Result:
    """`count` submissions, every other one rolled back, while Redis is down for
    `outage` seconds; the API is asked all along. The backlog must drain once Redis returns."""
    tag = uuid.uuid4().hex[:6]
    _, key = services.api_token_create(user=author, name=f"chaos {tag}", scope=TokenScope.READ)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    api: Counter[int] = Counter()
    day.redis.stop()
    down_at = time.monotonic()
    committed: list[object] = []
    for n in range(count):
        try:
            with transaction.atomic():
                draft = services.proposal_create_draft(
                    author=author, data=ANSWERS | {"title": f"Chaos {tag} {n}"}
                )
                proposal = services.proposal_transition(
                    proposal=draft, actor=author, action="submit"
                )
                if n % 2:
                    raise RolledBack
            committed.append(proposal.pk)
        except RolledBack:
            pass
        if n % 10 == 0:
            api[client.get("/api/v1/themes/").status_code] += 1
    while time.monotonic() - down_at < outage:
        api[client.get("/api/v1/themes/").status_code] += 1
        time.sleep(0.5)
    day.redis.start()
    up_at = time.monotonic()
    rows = Notification.objects.filter(proposal_id__in=committed)
    ids = {str(pk) for pk in rows.values_list("pk", flat=True)}
    first_sent: list[float] = []

    def drained() -> bool:
        if not first_sent and rows.filter(status=DeliveryStatus.SENT).exists():
            first_sent.append(time.monotonic() - up_at)
        emailed = len(_emailed(day, ids)) == len(ids)
        return emailed and not rows.filter(status__in=UNFINISHED).exists()

    done = wait_for(drained, timeout=timeout, every=0.5)
    drain = time.monotonic() - up_at if done else None
    name = f"{count} submissions, half rolled back, Redis down {outage:.0f} s"
    result = _result(name, day, ids, drain, 0)
    if first_sent:
        result.notes.append(
            f"the backlog started draining {first_sent[0]:.1f} s after Redis returned "
            "(the worker's reconnect, then its catch-up)"
        )
    # Rolled back means nothing: no proposal, no notification, no email.
    ghosts = Proposal.objects.filter(title__startswith=f"Chaos {tag} ").exclude(pk__in=committed)
    if ghosts.exists():
        result.lost += ghosts.count()
        result.notes.append(f"{ghosts.count()} rolled-back proposals exist")
    errors = sum(v for code, v in api.items() if code != 200)
    result.notes.append(
        f"API while Redis was down: {api[200]} of {sum(api.values())} requests answered 200"
    )
    if errors:
        result.stuck += errors  # an API error during the outage fails the run too
    return result


def report_killed_midway(
    day: Day, *, requester: User, timeout: float = 150, kill_between: tuple[int, int] = (1, 90)
) -> Result:
    """A report whose worker is SIGKILLed while it builds; it must finish, once."""
    report = services.report_request(user=requester, kind="proposals", format="csv")
    low, high = kill_between
    building = Report.objects.filter(
        pk=report.pk, status=ReportStatus.RUNNING, progress__gte=low, progress__lte=high
    )
    caught = wait_for(building.exists, timeout=60, every=0.01)
    killed_at = time.monotonic()
    if caught:
        day.restart_worker()
    done = Report.objects.filter(pk=report.pk, status=ReportStatus.DONE)
    finished = wait_for(done.exists, timeout=timeout, every=0.25)
    report.refresh_from_db()
    result = Result(
        scenario="report build killed mid-way",
        created=1,
        delivered=int(finished),
        unique=int(finished),
        lost=0 if finished else 1,
        stuck=int(report.status in {ReportStatus.QUEUED, ReportStatus.RUNNING}),
        drain_seconds=time.monotonic() - killed_at if finished else None,
    )
    result.notes.append(
        f"report: killed at {'a' if caught else 'no'} point mid-way, built in "
        f"{report.attempts} attempt(s), {report.row_count} rows"
    )
    if not caught:
        result.stuck += 1  # the scenario did not happen: never report it as passed
    return result


def webhooks_receiver_down(
    day: Day, *, lead: User, count: int = 100, down_for: float = 20.0, timeout: float = 150
) -> Result:
    """`count` webhook deliveries to a receiver that is down for `down_for` seconds."""
    receiver = Receiver()
    endpoint = WebhookEndpoint.objects.create(
        department_id=lead.department_id,
        url=receiver.url,
        secret=uuid.uuid4().hex,
        events=[],
        created_by=lead,
    )
    ids = {str(services.webhook_send_test(actor=lead, endpoint=endpoint).pk) for _ in range(count)}
    time.sleep(down_for)
    receiver.up()
    up_at = time.monotonic()
    rows = WebhookDelivery.objects.filter(pk__in=ids)
    try:
        done = wait_for(
            lambda: rows.filter(status=DeliveryStatus.SENT).count() == count,
            timeout=timeout,
            every=0.5,
        )
    finally:
        receiver.down()
    got = Counter({k: v for k, v in receiver.received.items() if k in ids})
    return Result(
        scenario=f"{count} webhooks, receiver down {down_for:.0f} s",
        created=count,
        delivered=sum(got.values()),
        unique=len(got),
        lost=count - len(got),
        stuck=rows.filter(status__in=UNFINISHED).count(),
        drain_seconds=time.monotonic() - up_at if done else None,
    )
