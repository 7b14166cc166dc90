"""`python manage.py seed_demo [--proposals N]`: demo accounts and data in every state.

Idempotent: accounts are created once, and proposals are added only up to N
in total, so a second run adds nothing twice. Fast: rows are generated in
chunks and written in bulk (COPY on PostgreSQL), never through the services,
so nothing is emailed and no notification is left pending. N = 1,000,000
takes minutes; `make bench` times it.

Any department configuration works: a department without criteria gets no
assessments (nothing could be scored), one without active people gets no
proposals, no themes means untagged proposals. What it cannot work without (the
demo accounts' departments) it says before writing anything, and everything is
one transaction: a failure part-way leaves the database as it was.

What the demo says comes from `proposals.management.demo.content` (ideas, each
with its own experiment, metrics and lessons), when it happened from
`…demo.timeline` (every history in the lifecycle's order, nothing in the
future but a running experiment's planned end), and the writing from
`…demo.bulk`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import itertools
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import Department, Role, User
from proposals import scoring, selectors
from proposals.enums import (
    AuditAudience,
    CostBand,
    DecisionKind,
    Direction,
    ExperimentStatus,
    NextStep,
    OutcomeResult,
    Recommendation,
    Status,
    Visibility,
)
from proposals.management.demo import content
from proposals.management.demo.bulk import BulkWriter, FreshLoad, Rows
from proposals.management.demo.timeline import Timeline, timeline
from proposals.models import (
    Adoption,
    Assessment,
    Assignment,
    AuditEvent,
    BenefitReview,
    Challenge,
    Comment,
    Criterion,
    Decision,
    EvaluationPlan,
    Experiment,
    Metric,
    MetricActual,
    Outcome,
    Proposal,
    ReferenceSequence,
    Score,
    Support,
    Theme,
)
from proposals.portfolio import refresh as refresh_portfolio

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

DEMO_ACCOUNTS = [
    ("submitter@dfe.example", "Sam Submitter", "dfe", Role.SUBMITTER),
    ("reviewer@dfe.example", "Rhea Reviewer", "dfe", Role.REVIEWER),
    ("lead@dfe.example", "Leo Lead", "dfe", Role.LEAD),
    ("submitter@homeoffice.example", "Hana Submitter", "home-office", Role.SUBMITTER),
    ("reviewer@homeoffice.example", "Harry Reviewer", "home-office", Role.REVIEWER),
    ("analyst@gds.example", "Ada Analyst", "gds", Role.ANALYST),
    ("assessor@dfe.example", "Asha Assessor", "dfe", Role.REVIEWER),
]

# Share of proposals in each state: every state is present even for small N.
STATUS_WEIGHTS = {
    Status.DRAFT: 8,
    Status.SUBMITTED: 15,
    Status.MORE_INFO: 5,
    Status.IN_REVIEW: 14,
    Status.APPROVED: 9,
    Status.REJECTED: 12,
    Status.WITHDRAWN: 5,
    Status.MERGED: 2,
    Status.EXPERIMENTING: 13,
    Status.COMPLETED: 17,
}
REVIEWED = {Status.APPROVED, Status.EXPERIMENTING, Status.COMPLETED}
DECIDED = REVIEWED | {Status.REJECTED}
CHUNK = 20_000
T = TypeVar("T")

FIRST = ["Alex", "Bea", "Chen", "Dev", "Ella", "Femi", "Gita", "Hal", "Iris", "Jon", "Kai", "Lola"]
LAST = ["Smith", "Jones", "Patel", "Khan", "Evans", "Brown", "Taylor", "Singh", "Wright", "Hall"]


class _Random(random.Random):
    """The seed's random numbers, with one draw per choice.

    `random.Random.choice` and `randint` reject-sample getrandbits in Python (a
    million proposals make some twelve million choices); one `random()` scaled
    to the length is uniform enough for demo data, and twice as fast.
    """

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        if not seq:
            raise IndexError("Cannot choose from an empty sequence")
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


class Command(BaseCommand):
    help = "Create the demo accounts and demo data in every state (idempotent, bulk)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--proposals", type=int, default=300, help="total proposals wanted")
        parser.add_argument("--seed", type=int, default=2026, help="random seed")

    def handle(self, *args: Any, proposals: int, seed: int, **options: Any) -> None:
        if not settings.DEBUG and not settings.DEMO_PASSWORD:
            raise ImproperlyConfigured(
                "seed_demo makes accounts with a known password: set DEMO_PASSWORD, or DEBUG=true"
            )
        started = time.monotonic()
        # Repeatable for the same database state; seeded from the rows already there
        # too, so topping up (N=10,000 then N=1,000,000) never repeats an id.
        existing = Proposal.objects.count()
        self.rng = _Random(f"{seed}:{existing}")
        self.password_hash = make_password(settings.DEMO_PASSWORD or "innovate-demo")
        self._check_configuration()
        wanted = max(proposals, 0) - existing
        made = 0
        fresh = False
        try:
            # One transaction for all of it, so a failure part-way writes nothing. (The
            # chunks keep memory flat; PostgreSQL holds a million rows in one transaction.)
            with transaction.atomic():
                self._accounts()
                self._people()
                self._challenges()
                # Into an empty PostgreSQL database: a bulk load, indexes and derived
                # data made once at the end (bulk.FreshLoad); else row by row.
                fresh = wanted > 0 and FreshLoad.applies()
                with FreshLoad() if fresh else contextlib.nullcontext() as load:
                    ctx = _Context.load(self.rng)
                    chunks = self._chunks(ctx, BulkWriter.last_ids(), wanted, first=existing == 0)

                    def progress(written: int) -> None:
                        if wanted > CHUNK:
                            self.stdout.write(f"  {written:,} of {wanted:,} proposals")

                    if load is not None:
                        # Made in a process of its own (bulk.FreshLoad.load): the
                        # sequences, as it moved them on, come back when it is done.
                        ctx.sequences = load.load(chunks, lambda: ctx.sequences, progress)
                    else:
                        for rows, written in chunks:
                            BulkWriter.write(rows)
                            progress(written)
                    made = max(wanted, 0)
                    for sequence in ctx.sequences.values():
                        # A year's first reference was drawn without a query: its
                        # sequence is new.
                        sequence.save(update_fields=["last_number"] if sequence.pk else None)
                if made:
                    self._reset_sequences()
                if load is not None and options.get("verbosity", 1) > 1:
                    for step, seconds in load.timings.items():
                        self.stdout.write(f"  {seconds:7.1f}s  {step}")
        except DatabaseError as error:
            raise CommandError(
                f"seed_demo could not write the demo data, so it wrote nothing: {error}"
            ) from error
        verbose = options.get("verbosity", 1) > 1
        # VACUUM and the portfolio's figures on two connections at once (two cores):
        # the figures read the data, VACUUM sets its hint bits and visibility map.
        vacuum = bool(made) and connection.vendor == "postgresql"
        together = vacuum and not connection.in_atomic_block
        with ThreadPoolExecutor(max_workers=1) if together else contextlib.nullcontext() as pool:
            refreshed = pool.submit(self._refresh_portfolio, verbose, thread=True) if pool else None
            if vacuum:
                # Bulk loads leave the planner's statistics stale, and the visibility
                # map unset (so no index-only scans), until autovacuum catches up:
                # at 1,000,000 proposals the triage dashboard took 711 ms before
                # VACUUM ANALYZE and 146 ms after. VACUUM cannot run in a transaction
                # (as under a test), where statistics alone are refreshed. (A fresh
                # load has analysed its tables already.)
                vacuumed = time.monotonic()
                with connection.cursor() as cursor:
                    if not connection.in_atomic_block:
                        cursor.execute("VACUUM" if fresh else "VACUUM ANALYZE")
                    elif not fresh:
                        cursor.execute("ANALYZE")
                if verbose:
                    self.stdout.write(f"  {time.monotonic() - vacuumed:7.1f}s  vacuum")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data ready: {Proposal.objects.count():,} proposals "
                    f"({made:,} added in {time.monotonic() - started:.1f}s)."
                )
            )
            if refreshed is None:
                self._refresh_portfolio(verbose)
            else:
                refreshed.result()

    def _refresh_portfolio(self, verbose: bool, *, thread: bool = False) -> None:
        """The /portfolio/ page's figures, of the data just written (`thread`: in a
        thread of its own, whose connection it closes)."""
        refreshing = time.monotonic()
        try:
            refresh_portfolio()
        finally:
            if thread:
                connections.close_all()  # this thread's own
        if verbose:
            self.stdout.write(f"  {time.monotonic() - refreshing:7.1f}s  portfolio figures")

    def _check_configuration(self) -> None:
        """Refuse, before writing anything, what the demo cannot be made without."""
        needed = list(dict.fromkeys(slug for _, _, slug, _ in DEMO_ACCOUNTS))
        present = set(Department.objects.filter(slug__in=needed).values_list("slug", flat=True))
        missing = [slug for slug in needed if slug not in present]
        if missing:
            raise CommandError(
                f"seed_demo needs the departments {', '.join(needed[:-1])} and {needed[-1]} "
                "for the demo accounts (the accounts migrations load them from "
                f"accounts/data/departments.csv); missing: {', '.join(missing)}. "
                "Nothing was written."
            )

    # --- people ----------------------------------------------------------------------

    def _accounts(self) -> None:
        for email, name, slug, role in DEMO_ACCOUNTS:
            department = Department.objects.get(slug=slug)
            User.objects.update_or_create(
                email=email,
                defaults={
                    "full_name": name,
                    "department": department,
                    "role": role,
                    "is_active": True,
                    "password": self.password_hash,
                },
            )

    def _people(self) -> None:
        """Eight seeded colleagues in every department: six submitters, two reviewers."""
        existing = set(User.objects.values_list("email", flat=True))
        rows = []
        for department in Department.objects.exclude(email_domain=""):
            for i in range(8):
                email = f"seed{i}@{department.email_domain}"
                if email in existing:
                    continue
                rows.append(
                    User(
                        email=email,
                        full_name=f"{FIRST[(i + department.pk) % len(FIRST)]} "
                        f"{LAST[(i * 3 + department.pk) % len(LAST)]}",
                        department=department,
                        role=Role.REVIEWER if i >= 6 else Role.SUBMITTER,
                        password=self.password_hash,
                    )
                )
        User.objects.bulk_create(rows)

    def _challenges(self) -> None:
        today = timezone.localdate()
        dfe = Department.objects.get(slug="dfe")
        lead = User.objects.get(email="lead@dfe.example")
        for slug, title, question, department, opens, closes in [
            (
                "reduce-teacher-workload",
                "Reduce teacher workload",
                "How could we give teachers back five hours a week?",
                dfe,
                today - dt.timedelta(days=30),
                today + dt.timedelta(days=60),
            ),
            (
                "net-zero-estates",
                "Net zero government estates",
                "How can government buildings cut their energy use by a fifth?",
                None,
                today - dt.timedelta(days=10),
                today + dt.timedelta(days=90),
            ),
            (
                "paperless-courts-2025",
                "Paperless courts",
                "Which paper processes in courts could go digital first?",
                None,
                today - dt.timedelta(days=400),
                today - dt.timedelta(days=200),
            ),
        ]:
            Challenge.objects.get_or_create(
                slug=slug,
                defaults={
                    "title": title,
                    "question": question,
                    "department": department,
                    "opens_on": opens,
                    "closes_on": closes,
                    "created_by": lead,
                },
            )

    # --- proposals, in bulk ------------------------------------------------------------

    def _chunks(
        self, ctx: _Context, ids: dict[type[Model], int], wanted: int, *, first: bool
    ) -> Iterator[tuple[Rows, int]]:
        """The proposals in chunks, each with how many are made so far.

        Makes no query (the ids and sequences are read before): the chunks may be
        made in another process, which must not use the connection.
        """
        made = 0
        while made < wanted:
            size = min(CHUNK, wanted - made)
            w = BulkWriter(ids)
            self._chunk(ctx.for_chunk(), w, size, first=first and made == 0)
            made += size
            yield w.take(), made

    def _chunk(self, ctx: _Context, w: BulkWriter, size: int, *, first: bool) -> None:
        rng = self.rng
        demo = ctx.demo
        dfe = next(d for d in ctx.departments if d.slug == "dfe")
        home_office = next(d for d in ctx.departments if d.slug == "home-office")
        # The first chunk gives the demo accounts something in every state, and a
        # newcomer every feature: a triage queue partly overdue, a DfE panel with
        # assessments to do, disagree about and moderate, an overdue experiment,
        # released feedback, a merged duplicate and adoptions both ways.
        scripted: list[_Plan] = []
        if first:
            for overdue in (True, False, True, False):
                scripted.append(_Plan(dfe, Status.SUBMITTED, None, triage_overdue=overdue))
                scripted.append(_Plan(dfe, Status.IN_REVIEW, None))
            scripted.append(_Plan(dfe, Status.EXPERIMENTING, None, experiment_overdue=True))
            for status in STATUS_WEIGHTS:
                scripted.append(
                    _Plan(
                        dfe,
                        status,
                        demo["submitter@dfe.example"],
                        feedback=status in DECIDED,
                        triage_overdue=status == Status.SUBMITTED,
                    )
                )
            for status in (Status.DRAFT, Status.SUBMITTED, Status.COMPLETED, Status.REJECTED):
                scripted.append(
                    _Plan(
                        home_office,
                        status,
                        demo["submitter@homeoffice.example"],
                        feedback=status == Status.REJECTED,
                    )
                )
            scripted.append(_Plan(dfe, Status.SUBMITTED, demo["submitter@dfe.example"], adopt=True))
            scripted.append(
                _Plan(home_office, Status.DRAFT, demo["submitter@homeoffice.example"], adopt=True)
            )

        # Cumulative once, rather than in every draw.
        department_cum = list(itertools.accumulate(ctx.department_weights))
        status_cum = list(itertools.accumulate(ctx.status_weights))
        for index in range(size):
            if index < len(scripted):
                plan = scripted[index]
            else:
                department = rng.choices(ctx.departments, cum_weights=department_cum)[0]
                status = rng.choices(ctx.statuses, cum_weights=status_cum)[0]
                plan = _Plan(
                    department,
                    status,
                    None,
                    rejected_at_triage=status == Status.REJECTED and rng.random() < 0.3,
                    experiment_overdue=rng.random() < 0.25,
                    # Now and then a department reuses a lesson instead of a new idea.
                    adopt=status in ADOPTABLE and rng.random() < 0.01,
                )
            if plan.submitter is None:
                plan.submitter = rng.choice(ctx.authors[plan.department.id])
            self._proposal(ctx, w, plan)

    def _proposal(self, ctx: _Context, w: BulkWriter, plan: _Plan) -> None:
        rng = self.rng
        now = ctx.now
        department, status, submitter = plan.department, plan.status, plan.submitter
        assert submitter is not None
        tl = timeline(
            status,
            rng,
            now,
            rejected_at_triage=plan.rejected_at_triage,
            triage_overdue=plan.triage_overdue,
            experiment_overdue=plan.experiment_overdue,
            triage_target_days=department.triage_target_days,
        )
        survivor = None
        if status == Status.MERGED:
            survivor = ctx.survivor_for(department.id, submitter)
            if survivor is None:
                status = Status.WITHDRAWN
                tl = timeline(status, rng, now)
            else:
                tl.fit_after(survivor.submitted, now)  # a duplicate of what came first
        lesson = ctx.lesson_for(department.id) if plan.adopt else None
        if lesson is not None:
            tl.fit_after(lesson.published, now)
        pid = uuid.UUID(int=rng.getrandbits(128), version=4)
        reference = ctx.reference(department, tl.created.year)
        lead = ctx.leads.get(department.id) or rng.choice(ctx.people[department.id])

        if survivor is not None:
            # The duplicate says the same thing, in the same place, in other words.
            idea, place = survivor.idea, survivor.place
            variants = [f"{t} {place}" for t in idea.titles if not survivor.title.startswith(t)]
            title = (
                ctx.fresh([*variants, f"{variants[0]}, as a shared pilot"])
                if variants
                else (f"{survivor.title}, as a shared pilot")
            )
        else:
            idea = ctx.idea_for(department.slug)
            title, place = ctx.unique_title(idea)
        texts = {
            "summary": idea.summary,
            "problem": idea.problem,
            "who_has_the_problem": idea.who,
            "proposed_solution": f"{idea.solution} We would start with a pilot {place}.",
            "expected_benefits": idea.benefits,
        }
        theme_ids = ctx.themes_for(idea)
        cost_band = rng.choice(COST_BANDS)
        if lesson is not None:
            # As `proposal_adopt` words it: a copy that credits the original.
            original = lesson.proposal
            title = f"Adopt: {original.title}"[:150]
            texts = dict(original.texts)
            texts["proposed_solution"] = (
                f"Adopt {original.reference} from {lesson.department_name}, whose experiment "
                f"“{lesson.experiment_title}” found: {lesson.lessons}\n\n"
                f"{original.texts['proposed_solution']}"
            )
            theme_ids, cost_band = original.theme_ids, original.cost_band
        visibility = Visibility.DEPARTMENT if rng.random() < 0.15 else Visibility.GOVERNMENT

        submitted_assessments = 0
        if (
            status in REVIEWED
            or status == Status.IN_REVIEW
            or (status == Status.REJECTED and not plan.rejected_at_triage)
        ):
            submitted_assessments = self._assessments(ctx, w, pid, plan, status, tl)
        released = None
        if status in DECIDED and submitted_assessments:
            wanted = plan.feedback if plan.feedback is not None else rng.random() < 0.4
            if wanted:
                decided = tl.decided or now
                released = min(decided + (now - decided) * rng.uniform(0.01, 0.2), now)
        outcome = None
        if status in {Status.EXPERIMENTING, Status.COMPLETED}:
            outcome = self._experiment(
                ctx,
                w,
                plan,
                _Written(pid, reference, title, texts, theme_ids, cost_band),
                idea,
                place,
                lead,
                tl,
                wide=selectors.is_government_wide(status, visibility),
            )

        updated = max(t for t in (tl.last, released) if t is not None)
        row = w.add(
            Proposal,
            id=pid,
            # Counted up by the database as the supports below are written.
            support_count=0,
            reference=reference,
            title=title[:150],
            **texts,
            cost_band=cost_band,
            estimated_benefit_gbp=rng.choice([None, 5_000, 20_000, 80_000, 250_000, 1_200_000]),
            hours_saved_per_year=rng.choice([None, 500, 2_000, 10_000]),
            department_id=department.id,
            submitter_id=submitter,
            challenge_id=ctx.challenge_for(department.id, tl.created.date()),
            visibility=visibility,
            status=status,
            merged_into_id=survivor.pid if survivor is not None else None,
            previous_id=None,
            feedback_released=released is not None,
            next_step=outcome or "",
            created_at=tl.created,
            updated_at=updated,
            submitted_at=tl.submitted,
            decided_at=tl.decided,
            version=1,
        )
        if status in {Status.SUBMITTED, Status.IN_REVIEW, Status.MORE_INFO} and lesson is None:
            ctx.open[department.id].append(
                _Open(pid, reference, submitter, idea, place, title, tl.submitted or now, row)
            )
        for theme in theme_ids:
            w.add(Proposal.themes.through, proposal_id=pid, theme_id=theme)
        if lesson is not None:
            adoption = w.next_id(Adoption)
            w.add(
                Adoption,
                id=adoption,
                outcome_id=lesson.outcome_id,
                proposal_id=pid,
                department_id=department.id,
                adopted_by_id=submitter,
                created_at=tl.created,
            )
            _event(
                w,
                pid,
                reference,
                department.id,
                submitter,
                "adopt",
                tl.created,
                {"adopted_from": [None, lesson.proposal.reference]},
                AuditAudience.AUTHORS,
                object_type="adoption",
                object_id=str(adoption),
            )
        self._history(w, pid, reference, department, submitter, lead, status, tl, plan, survivor)
        if released is not None:
            _event(
                w,
                pid,
                reference,
                department.id,
                lead,
                "release_feedback",
                released,
                {"feedback_released": [False, True]},
                AuditAudience.AUTHORS,
            )
        if status not in {Status.DRAFT, Status.MERGED}:
            self._conversation(ctx, w, pid, department.id, submitter, status, visibility, tl)

    def _conversation(
        self,
        ctx: _Context,
        w: BulkWriter,
        pid: uuid.UUID,
        department_id: int,
        submitter: int,
        status: Status,
        visibility: str,
        tl: Timeline,
    ) -> None:
        """Comments and supports from people who can see it, while it was open."""
        rng = self.rng
        audience = (
            ctx.people[department_id] if visibility == Visibility.DEPARTMENT else ctx.all_people
        )
        assert tl.submitted is not None
        until = min(tl.last + dt.timedelta(days=30), ctx.now)
        if rng.random() < 0.25:
            for _ in range(rng.choice([1, 1, 2])):
                w.add(
                    Comment,
                    proposal_id=pid,
                    author_id=rng.choice(audience),
                    body=rng.choice(content.COMMENTS),
                    created_at=tl.submitted + (until - tl.submitted) * rng.random(),
                    edited_at=None,
                )
        if status != Status.WITHDRAWN and rng.random() < 0.35:
            for supporter in set(rng.sample(audience, min(len(audience), rng.randint(1, 3)))) - {
                submitter
            }:
                w.add(
                    Support,
                    proposal_id=pid,
                    user_id=supporter,
                    created_at=tl.submitted + (until - tl.submitted) * rng.random(),
                )

    def _history(
        self,
        w: BulkWriter,
        pid: uuid.UUID,
        reference: str,
        department: Department,
        submitter: int,
        lead: int,
        status: Status,
        tl: Timeline,
        plan: _Plan,
        survivor: _Open | None,
    ) -> None:
        """The proposal's timeline: one audit event per transition, at its time."""
        rng = self.rng

        def event(
            actor: int,
            action: str,
            when: dt.datetime | None,
            before: str | None,
            after: str,
            audience: AuditAudience = AuditAudience.EVERYONE,
            **more: list[Any],
        ) -> None:
            assert when is not None
            _event(
                w,
                pid,
                reference,
                department.id,
                actor,
                action,
                when,
                {"status": [before, after], **more},
                audience,
            )

        def decision(kind: DecisionKind, when: dt.datetime | None) -> None:
            w.add(
                Decision,
                proposal_id=pid,
                kind=kind,
                rationale=rng.choice(content.RATIONALE[kind]),
                decided_by_id=lead,
                created_at=when,
            )

        event(submitter, "create", tl.created, None, Status.DRAFT, AuditAudience.AUTHORS)
        if tl.submitted is None:
            return
        event(submitter, "submit", tl.submitted, Status.DRAFT, Status.SUBMITTED)
        if status == Status.WITHDRAWN:
            event(submitter, "withdraw", tl.closed, Status.SUBMITTED, Status.WITHDRAWN)
        elif status == Status.MORE_INFO:
            event(lead, "request_info", tl.triaged, Status.SUBMITTED, Status.MORE_INFO)
            decision(DecisionKind.MORE_INFO, tl.triaged)
        elif status == Status.MERGED and survivor is not None and tl.triaged is not None:
            event(
                lead,
                "merge",
                tl.triaged,
                Status.SUBMITTED,
                Status.MERGED,
                merged_into=[None, survivor.reference],
            )
            _event(
                w,
                survivor.pid,
                survivor.reference,
                department.id,
                lead,
                "merge_in",
                tl.triaged,
                {"merged_from": [None, reference]},
            )
            survivor.row["updated_at"] = max(survivor.row["updated_at"], tl.triaged)
            survivor.row["version"] += 1
        elif status == Status.REJECTED and plan.rejected_at_triage:
            event(lead, "reject_at_triage", tl.triaged, Status.SUBMITTED, Status.REJECTED)
            decision(DecisionKind.REJECT, tl.triaged)
        elif status in DECIDED or status == Status.IN_REVIEW:
            event(lead, "accept", tl.triaged, Status.SUBMITTED, Status.IN_REVIEW)
            if tl.decided is None:
                return
            approve = status in REVIEWED
            event(
                lead,
                "approve" if approve else "reject",
                tl.decided,
                Status.IN_REVIEW,
                Status.APPROVED if approve else Status.REJECTED,
            )
            decision(DecisionKind.APPROVE if approve else DecisionKind.REJECT, tl.decided)
            if tl.started is not None:
                event(lead, "start_experiment", tl.started, Status.APPROVED, Status.EXPERIMENTING)
            if status == Status.COMPLETED:
                event(lead, "close", tl.closed, Status.EXPERIMENTING, Status.COMPLETED)

    def _assessments(
        self,
        ctx: _Context,
        w: BulkWriter,
        pid: uuid.UUID,
        plan: _Plan,
        status: Status,
        tl: Timeline,
    ) -> int:
        """The panel's assessments; returns how many were submitted."""
        rng = self.rng
        department = plan.department
        criteria = ctx.criteria.get(department.id)
        panel = [r for r in ctx.reviewers.get(department.id, []) if r != plan.submitter]
        if not panel or not criteria or tl.triaged is None:
            return 0  # no one to assess, or nothing to score against
        if status == Status.IN_REVIEW and department.slug == "dfe":
            # The DfE panel, in turn: every state a newcomer should see on the sheet.
            scenario = PANEL_SCENARIOS[ctx.dfe_panels % len(PANEL_SCENARIOS)]
            ctx.dfe_panels += 1
            others = [r for r in panel if r not in ctx.dfe_panel_demo]
            seats: list[tuple[int, str]] = []
            for who, state in scenario:
                person = ctx.demo.get(who) if who else None
                if person is None or person not in panel:
                    person = rng.choice(others or panel)
                if all(person != p for p, _ in seats):
                    seats.append((person, state))
        else:
            if status == Status.IN_REVIEW:
                states = ["scored" if rng.random() < 0.4 else "pending" for _ in range(2)]
            else:
                states = ["scored", "scored"]
            chosen = rng.sample(panel, min(len(panel), rng.choice([1, 2])))
            seats = list(zip(chosen, [*states, "scored"], strict=False))
        # How good the panel finds it: approved ideas score well, rejected ones badly.
        quality = (
            rng.uniform(3.3, 4.8)
            if status in REVIEWED
            else rng.uniform(1.3, 3.0)
            if status == Status.REJECTED
            else rng.uniform(1.6, 4.7)
        )
        until = tl.decided or ctx.now
        done = 0
        for assessor, state in seats:
            w.add(
                Assignment,
                proposal_id=pid,
                reviewer_id=assessor,
                assigned_by_id=ctx.leads.get(department.id, assessor),
                created_at=tl.triaged,
            )
            aid = w.next_id(Assessment)
            submitted = tl.triaged + (until - tl.triaged) * rng.uniform(0.2, 0.9)
            if state in {"pending", "conflict"}:
                w.add(
                    Assessment,
                    id=aid,
                    proposal_id=pid,
                    assessor_id=assessor,
                    conflict_declared=True if state == "conflict" else None,
                    conflict_details="I advised the team on an earlier version of this idea."
                    if state == "conflict"
                    else "",
                    recommendation="",
                    comment="",
                    weighted_score=None,
                    created_at=tl.triaged,
                    submitted_at=None,
                )
                continue
            if state == "high":
                scores = [rng.choice((4, 5, 5)) for _ in criteria]
            elif state == "low":
                scores = [rng.choice((1, 2, 2)) for _ in criteria]
            else:
                own = quality + rng.gauss(0, 0.4)
                scores = [min(5, max(1, round(own + rng.gauss(0, 0.7)))) for _ in criteria]
            weighted = _weighted_score(
                tuple(zip(scores, [weight for _, weight in criteria], strict=True))
            )
            fund = weighted >= 3
            w.add(
                Assessment,
                id=aid,
                proposal_id=pid,
                assessor_id=assessor,
                conflict_declared=False,
                conflict_details="",
                recommendation=Recommendation.FUND if fund else Recommendation.DO_NOT_FUND,
                comment=rng.choice(content.ASSESSMENT_COMMENTS[fund]),
                weighted_score=weighted,
                created_at=tl.triaged,
                submitted_at=submitted,
            )
            for i, ((criterion, _), score) in enumerate(zip(criteria, scores, strict=True)):
                comments = content.SCORE_COMMENTS[score]
                w.add(
                    Score,
                    assessment_id=aid,
                    criterion_id=criterion,
                    score=score,
                    # Varied without a draw per score: this runs for every criterion.
                    comment=comments[(aid + i) % len(comments)],
                )
            done += 1
        return done

    def _experiment(
        self,
        ctx: _Context,
        w: BulkWriter,
        plan: _Plan,
        proposal: _Written,
        idea: content.Idea,
        place: str,
        lead: int,
        tl: Timeline,
        *,
        wide: bool,
    ) -> NextStep | None:
        """The pilot of the idea, its metrics, evaluation plan and (once over) its outcome.

        Returns the outcome's recommendation, the proposal's next step, if it has one.
        `wide`: the proposal is `selectors.government_wide()`, written on both rows.
        """
        rng = self.rng
        now = ctx.now
        assert tl.decided and tl.started and tl.ends
        completed = plan.status == Status.COMPLETED
        pid, cost_band = proposal.pid, proposal.cost_band
        eid = w.next_id(Experiment)
        result = rng.choices(RESULTS, cum_weights=RESULT_CUM_WEIGHTS)[0]
        stopped = (
            tl.started + (tl.ends - tl.started) * rng.uniform(0.4, 0.8)
            if completed and result == OutcomeResult.NOT_MET and rng.random() < 0.4
            else None
        )
        starts, ends = tl.started.date(), tl.ends.date()
        weeks = max(1, round((ends - starts).days / 7))
        figures = []
        for spec in idea.metrics:
            baseline, target = content.metric_plan(spec, rng)
            figures.append((spec, baseline, target))
        first = figures[0]
        falls = "falls" if first[0].direction == Direction.DECREASE else "rises"
        created = tl.decided + (tl.started - tl.decided) * rng.uniform(0.1, 0.5)
        last = tl.published or tl.started
        designs = rng.sample(content.DESIGNS, len(content.DESIGNS))
        title = ctx.fresh(
            [f"{weeks}-week {design} of {idea.pilot} {place}"[:150] for design in designs]
            + [f"{weeks}-week {designs[0]} of {idea.pilot} {place}, second round"[:150]]
        )
        w.add(
            Experiment,
            id=eid,
            proposal_id=pid,
            title=title,
            we_believe=idea.believe,
            will_result_in=idea.result_in,
            we_will_know_when=(
                f"{first[0].name.lower()} {falls} from {content.figure(first[1], first[0].unit)} "
                f"to {content.figure(first[2], first[0].unit)}"
            ),
            lead_id=lead,
            starts_on=starts,
            ends_on=ends,
            budget_gbp=rng.choice(BUDGETS[CostBand(cost_band)]),
            status=ExperimentStatus.STOPPED
            if stopped
            else ExperimentStatus.COMPLETED
            if completed
            else ExperimentStatus.RUNNING,
            started_at=tl.started,
            stopped_at=stopped,
            created_at=created,
            updated_at=last,
            government_wide=wide,
        )
        metric_ids = []
        for spec, baseline, target in figures:
            mid = w.next_id(Metric)
            metric_ids.append(mid)
            w.add(
                Metric,
                id=mid,
                experiment_id=eid,
                name=spec.name,
                unit=spec.unit,
                baseline=baseline,
                target=target,
                direction=spec.direction,
            )
        # An evaluation plan of each Magenta Book type in turn; about half of the
        # completed ones have published their report (after the outcome, never in
        # the future), the rest are overdue or due.
        kind = EVALUATION_DEMO[eid % len(EVALUATION_DEMO)]
        report = (
            tl.published + dt.timedelta(days=rng.uniform(14, 120))
            if completed and tl.published and rng.random() < 0.6
            else None
        )
        if report is not None and report > now:
            report = None
        intervention_end = (stopped or tl.ends).date()
        w.add(
            EvaluationPlan,
            id=w.next_id(EvaluationPlan),
            experiment_id=eid,
            evaluation_types=kind["types"],
            impact_designs=kind.get("impact", []),
            process_designs=kind.get("process", []),
            economic_designs=kind.get("economic", []),
            other_type=kind.get("other", ""),
            brief_description=kind["description"],
            lead_department_id=plan.department.id,
            cost_gbp=rng.choice([5_000, 12_000, 30_000]),
            plan_link="",
            evaluation_start=starts - dt.timedelta(days=7),
            evaluation_end=ends + dt.timedelta(days=56),
            intervention_start=starts,
            intervention_end=ends,
            final_report_due=ends + dt.timedelta(weeks=12),
            actual_evaluation_start=starts - dt.timedelta(days=7),
            actual_evaluation_end=(report - dt.timedelta(days=7)).date() if report else None,
            actual_intervention_start=starts,
            actual_intervention_end=intervention_end if completed else None,
            final_report_published=report.date() if report else None,
            report_link="https://www.gov.uk/government/publications/demo-evaluation-report"
            if report
            else "",
            reason_unpublished="" if report else rng.choice(["sign_off", "resource", ""]),
            report_due_reminded_at=None,
            report_overdue_reminded_at=None,
            created_at=created,
            updated_at=report or last,
        )
        if not completed or tl.published is None:
            return None
        recommendation = rng.choice(NEXT_STEPS[OutcomeResult(result)])
        results = [
            (
                spec,
                baseline,
                target,
                content.actual_value(result, i == 0, baseline, target, rng, spec.places),
            )
            for i, (spec, baseline, target) in enumerate(figures)
        ]
        lessons = content.lessons_text(idea, result, recommendation, results, rng)
        oid = w.next_id(Outcome)
        success = {"met": 1.0, "partly_met": 0.4}.get(result, 0.0)
        benefit = round(rng.choice([15_000, 60_000, 150_000, 400_000]) * success, -3)
        hours = round(rng.choice([400, 1_500, 5_000]) * success, -2)
        recorded = (stopped or tl.ends) + (tl.published - (stopped or tl.ends)) * rng.uniform(
            0.5, 1
        )
        reviews: list[tuple[dt.date, dt.date | None]] = []
        for months in (6, 12):
            due = (tl.published + dt.timedelta(days=months * 365 // 12)).date()
            on = due + dt.timedelta(days=rng.randint(1, 20))
            reviews.append((due, on if on <= now.date() and rng.random() < 0.5 else None))
        next_review = next((due for due, reviewed in reviews if reviewed is None), reviews[-1][0])
        w.add(
            Outcome,
            id=oid,
            experiment_id=eid,
            result=result,
            lessons=lessons,
            recommendation=recommendation,
            realised_benefit_gbp=int(benefit),
            realised_hours_saved=int(hours),
            benefit_owner_id=lead,
            benefit_review_on=next_review,
            published=True,
            published_at=tl.published,
            government_wide=wide,
            recorded_by_id=lead,
            created_at=recorded,
            updated_at=tl.published,
        )
        for due, reviewed in reviews:
            w.add(
                BenefitReview,
                id=w.next_id(BenefitReview),
                outcome_id=oid,
                due_on=due,
                reviewed_on=reviewed,
                realised_benefit_gbp=int(benefit) if reviewed else None,
                realised_hours_saved=int(hours) if reviewed else None,
                note=rng.choice(REVIEW_NOTES) if reviewed else "",
                reviewed_by_id=lead if reviewed else None,
                reminded_at=None,
            )
        for mid, (_, _, _, actual) in zip(metric_ids, results, strict=True):
            w.add(MetricActual, outcome_id=oid, metric_id=mid, value=actual)
        ctx.lessons.append(
            _Lesson(
                proposal=proposal,
                outcome_id=oid,
                department_id=plan.department.id,
                department_name=plan.department.name,
                experiment_title=title,
                lessons=lessons,
                published=tl.published,
            )
        )
        return recommendation

    def _reset_sequences(self) -> None:
        """Explicit ids were written; move each table's id sequence past them."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in BulkWriter.AUTO_ID_MODELS:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )


# One evaluation plan of each Magenta Book type, in turn (every design family shown).
EVALUATION_DEMO: list[dict[str, Any]] = [
    {
        "types": ["impact"],
        "impact": ["cluster_rct"],
        "description": "Offices randomised to the tool or not; processing time compared.",
    },
    {
        "types": ["impact", "economic"],
        "impact": ["difference_in_differences"],
        "economic": ["cost_benefit"],
        "description": "Pilot offices against similar ones, with the costs and savings.",
    },
    {
        "types": ["process"],
        "process": ["interviews", "focus_groups", "surveys"],
        "description": "How caseworkers used the tool, and what got in the way.",
    },
    {
        "types": ["impact", "process"],
        "impact": ["contribution_analysis"],
        "process": ["case_studies"],
        "description": "Whether the tool, rather than other changes, made the difference.",
    },
    {
        "types": ["economic"],
        "economic": ["cost_effectiveness"],
        "description": "Cost per form processed, before and after.",
    },
    {
        "types": ["other"],
        "other": "Peer review by another department",
        "description": "Another department's digital team reviews the pilot.",
    },
]


# --- what the seed keeps track of while it writes a chunk --------------------------------------

# The DfE panel sheet, proposal by proposal in turn: (who, state) per assessor,
# where who is a demo account (or None: another DfE reviewer) and state is
# "scored" (the panel's view of the idea), "high"/"low" (assessors who disagree
# widely, which the panel sheet flags for moderation), "pending" or "conflict".
PANEL_SCENARIOS: tuple[tuple[tuple[str | None, str], ...], ...] = (
    (("reviewer@dfe.example", "scored"), ("assessor@dfe.example", "pending")),
    (("reviewer@dfe.example", "high"), ("assessor@dfe.example", "low")),
    (("reviewer@dfe.example", "scored"), ("assessor@dfe.example", "scored")),
    (("reviewer@dfe.example", "pending"), ("assessor@dfe.example", "pending")),
    (("reviewer@dfe.example", "scored"), (None, "scored"), ("assessor@dfe.example", "conflict")),
    (("reviewer@dfe.example", "scored"), (None, "scored"), ("assessor@dfe.example", "pending")),
    (("reviewer@dfe.example", "pending"), ("assessor@dfe.example", "scored")),
    (("reviewer@dfe.example", "low"), (None, "high"), ("assessor@dfe.example", "pending")),
)
# Read once: an enum's `.values` walks its members on every use.
COST_BANDS = CostBand.values
RESULTS = OutcomeResult.values
RESULT_CUM_WEIGHTS = list(itertools.accumulate([35, 25, 25, 15]))  # met … inconclusive
# Statuses an adopted lesson's copy may have reached by now.
ADOPTABLE = {Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.APPROVED}
BUDGETS = {
    CostBand.UNDER_10K: (4_000, 6_500, 9_000),
    CostBand.FROM_10K: (12_000, 25_000, 45_000),
    CostBand.FROM_50K: (60_000, 120_000, 200_000),
    CostBand.FROM_250K: (300_000, 550_000, 900_000),
    CostBand.OVER_1M: (1_200_000, 2_000_000),
}
NEXT_STEPS = {
    OutcomeResult.MET: (NextStep.SCALE, NextStep.SCALE, NextStep.SCALE, NextStep.ITERATE),
    OutcomeResult.PARTLY_MET: (NextStep.ITERATE, NextStep.ITERATE, NextStep.SCALE),
    OutcomeResult.NOT_MET: (NextStep.STOP, NextStep.STOP, NextStep.ITERATE),
    OutcomeResult.INCONCLUSIVE: (NextStep.ITERATE, NextStep.ITERATE, NextStep.STOP),
}
REVIEW_NOTES = (
    "Savings confirmed by the finance business partner.",
    "Benefit lower than planned: take-up was slower in two regions.",
    "On track; the full-year figure is due at the next review.",
    "Hours saved were redeployed to clearing the backlog.",
)


@dataclass
class _Plan:
    """What one proposal is to be; the submitter is chosen when it is made."""

    department: Department
    status: Status
    submitter: int | None
    feedback: bool | None = None  # released feedback: None lets chance decide
    triage_overdue: bool | None = None
    experiment_overdue: bool = False
    rejected_at_triage: bool = False
    adopt: bool = False


@dataclass
class _Written:
    """A proposal as written, for an adoption to copy."""

    pid: uuid.UUID
    reference: str
    title: str
    texts: dict[str, str]
    theme_ids: list[int]
    cost_band: str


@dataclass
class _Open:
    """A proposal still open, that a later duplicate may be merged into."""

    pid: uuid.UUID
    reference: str
    submitter: int
    idea: content.Idea
    place: str
    title: str
    submitted: dt.datetime
    row: dict[str, Any]


@dataclass
class _Lesson:
    """A published outcome of this chunk, that another department may adopt."""

    proposal: _Written
    outcome_id: int
    department_id: int
    department_name: str
    experiment_title: str
    lessons: str
    published: dt.datetime


@dataclass
class _Context:
    """The reference data a chunk draws on, read once, and what it has written so far."""

    rng: random.Random
    now: dt.datetime
    people: dict[int, list[int]]
    authors: dict[int, list[int]]  # who proposes at random
    reviewers: dict[int, list[int]]
    leads: dict[int, int]
    departments: list[Department]
    department_weights: list[int]
    all_people: list[int]
    demo: dict[str, int]
    criteria: dict[int, list[tuple[int, Decimal]]]
    theme_ids: dict[str, int]
    challenges: list[tuple[int, int | None, dt.date, dt.date]]
    sequences: dict[tuple[int, int], ReferenceSequence]
    statuses: list[Status] = field(default_factory=lambda: list(STATUS_WEIGHTS))
    status_weights: list[int] = field(default_factory=lambda: list(STATUS_WEIGHTS.values()))
    open: dict[int, list[_Open]] = field(default_factory=lambda: defaultdict(list))
    lessons: list[_Lesson] = field(default_factory=list)
    titles: set[str] = field(default_factory=set)
    combinations: dict[tuple[str, ...], list[tuple[str, str]]] = field(default_factory=dict)
    ideas: dict[str, tuple[tuple[content.Idea, ...], tuple[content.Idea, ...]]] = field(
        default_factory=dict
    )
    dfe_panels: int = 0

    @classmethod
    def load(cls, rng: random.Random) -> _Context:
        people: dict[int, list[int]] = defaultdict(list)
        reviewers: dict[int, list[int]] = defaultdict(list)
        leads: dict[int, int] = {}
        for pk, department_id, role in User.objects.filter(is_active=True).values_list(
            "pk", "department_id", "role"
        ):
            if role == Role.ANALYST:
                continue
            people[department_id].append(pk)
            if role in {Role.REVIEWER, Role.LEAD}:
                reviewers[department_id].append(pk)
            if role == Role.LEAD:
                leads[department_id] = pk
        # Only departments with someone active in them can have proposals.
        departments = [d for d in Department.objects.all() if people.get(d.pk)]
        demo = dict(
            User.objects.filter(email__in=[a[0] for a in DEMO_ACCOUNTS]).values_list("email", "pk")
        )
        # The demo's reviewers and leads propose nothing at random: what they see
        # on the panel sheet would be hidden from them as its authors.
        panel = {pk for email, pk in demo.items() if not email.startswith("submitter@")}
        authors = {
            department: [pk for pk in pks if pk not in panel] or pks
            for department, pks in people.items()
        }
        criteria: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for pk, department_id, weight in Criterion.objects.filter(active=True).values_list(
            "pk", "department_id", "weight"
        ):
            criteria[department_id].append((pk, weight))
        return cls(
            rng=rng,
            now=timezone.now(),
            people=people,
            reviewers=reviewers,
            leads=leads,
            departments=departments,
            department_weights=[
                20 if d.slug == "dfe" else 15 if d.slug == "home-office" else 2 for d in departments
            ],
            all_people=[pk for pks in people.values() for pk in pks],
            demo=demo,
            authors=authors,
            criteria=criteria,
            theme_ids=dict(Theme.objects.values_list("slug", "pk")),
            challenges=list(
                Challenge.objects.values_list("pk", "department_id", "opens_on", "closes_on")
            ),
            sequences={
                (s.department_id, s.year): s for s in ReferenceSequence.objects.select_for_update()
            },
        )

    def for_chunk(self) -> _Context:
        """The same reference data and reference sequences, with nothing written yet.

        Read once per run: a chunk in the background holds the connection, and
        nothing here changes while the seed runs.
        """
        return dataclasses.replace(
            self,
            now=timezone.now(),
            open=defaultdict(list),
            lessons=[],
            titles=set(),
            combinations={},
            dfe_panels=0,
        )

    @functools.cached_property
    def dfe_panel_demo(self) -> frozenset[int]:
        return frozenset(self.demo[e] for e in ("reviewer@dfe.example", "assessor@dfe.example"))

    def reference(self, department: Department, year: int) -> str:
        sequence = self.sequences.get((department.id, year))
        if sequence is None:
            # Saved with the others once the proposals are made (`handle`).
            sequence = ReferenceSequence(department=department, year=year, last_number=0)
            self.sequences[(department.id, year)] = sequence
        sequence.last_number += 1
        return f"{department.reference_prefix}-{year}-{sequence.last_number:04d}"

    def idea_for(self, slug: str) -> content.Idea:
        if slug not in self.ideas:
            self.ideas[slug] = content.ideas_for(slug)
        own, anyone = self.ideas[slug]
        return self.rng.choice(own if own and self.rng.random() < 0.65 else anyone)

    def unique_title(self, idea: content.Idea) -> tuple[str, str]:
        """The idea in a place, in words no other proposal of this chunk used (while any are
        left: then in a place at random).

        Each idea's combinations are shuffled once and taken in turn, so a popular
        idea costs no more than a rare one.
        """
        rng = self.rng
        unused = self.combinations.get(idea.titles)
        if unused is None:
            unused = [(t, p) for t in idea.titles for p in content.PLACES]
            rng.shuffle(unused)
            self.combinations[idea.titles] = unused
        while unused:
            words, place = unused.pop()
            title = f"{words} {place}"
            if title not in self.titles:
                break
        else:
            place = rng.choice(content.PLACES)
            title = f"{rng.choice(idea.titles)} {place}"
        self.titles.add(title)
        return title, place

    def fresh(self, candidates: list[str]) -> str:
        """The first of the candidates not yet used in this chunk (else the last)."""
        chosen = next((c for c in candidates if c not in self.titles), candidates[-1])
        self.titles.add(chosen)
        return chosen

    def themes_for(self, idea: content.Idea) -> list[int]:
        return [self.theme_ids[s] for s in idea.themes if s in self.theme_ids]

    def challenge_for(self, department_id: int, created: dt.date) -> int | None:
        """Now and then, a challenge that was open to the department when it was written."""
        if self.rng.random() >= 0.1:
            return None
        open_then = [
            pk
            for pk, owner, opens, closes in self.challenges
            if owner in (None, department_id) and opens <= created <= closes
        ]
        return self.rng.choice(open_then) if open_then else None

    def survivor_for(self, department_id: int, submitter: int) -> _Open | None:
        """The latest open proposal of the department by someone else: a duplicate's original."""
        return next(
            (o for o in reversed(self.open[department_id]) if o.submitter != submitter), None
        )

    def lesson_for(self, department_id: int) -> _Lesson | None:
        """A lesson of another department, not yet adopted in this chunk."""
        for i, lesson in enumerate(self.lessons):
            if lesson.department_id != department_id:
                return self.lessons.pop(i)
        return None


# A million proposals' assessments are a few thousand combinations of scores and weights.
_weighted_score = functools.lru_cache(maxsize=4096)(scoring.weighted_score)


@functools.lru_cache(maxsize=64)
def _uuid_text(pid: uuid.UUID) -> str:
    """A proposal's id as its audit events name it (each proposal has several)."""
    return str(pid)


def _event(
    w: BulkWriter,
    pid: uuid.UUID,
    reference: str,
    department_id: int,
    actor: int,
    action: str,
    when: dt.datetime,
    changes: dict[str, list[Any]],
    audience: AuditAudience = AuditAudience.EVERYONE,
    *,
    object_type: str = "proposal",
    object_id: str | None = None,
) -> None:
    w.add(
        AuditEvent,
        proposal_id=pid,
        proposal_reference=reference,
        department_id=department_id,
        actor_id=actor,
        action=action,
        object_type=object_type,
        object_id=object_id or _uuid_text(pid),
        changes=changes,
        audience=audience,
        created_at=when,
    )
