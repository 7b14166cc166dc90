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
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts.models import Department, Role, User
from proposals import scoring
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
from proposals.models import (
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

ACTIONS = [
    "Automate",
    "Use AI to triage",
    "Digitise",
    "Share data on",
    "Simplify",
    "Pilot a chatbot for",
    "Predict demand for",
    "Replace paper forms for",
    "Join up records for",
    "Use open standards for",
]
SUBJECTS = [
    "school admissions appeals",
    "visa applications",
    "grant payments",
    "freedom of information requests",
    "procurement approvals",
    "staff onboarding",
    "flood risk alerts",
    "court listings",
    "benefit change of circumstances",
    "correspondence with ministers",
    "fleet maintenance",
    "energy use in offices",
    "apprenticeship matching",
    "case file transfers",
    "complaints handling",
]
USERS = [
    "caseworkers",
    "contact centre staff",
    "citizens applying online",
    "finance teams",
    "school business managers",
    "policy officials",
    "local authorities",
]
PROBLEMS = [
    "is re-keyed by hand from scanned documents, which takes hours and causes errors",
    "waits in shared inboxes for weeks because nobody owns the queue",
    "relies on spreadsheets emailed between teams, so nobody has the latest version",
    "needs the same information entered in three systems",
    "is checked manually although most cases are straightforward",
]
BENEFITS = [
    "Fewer errors and faster decisions",
    "Thousands of staff hours saved a year",
    "A better experience for the public and fewer repeat contacts",
    "Lower cost per case and better data for planning",
]
FIRST = ["Alex", "Bea", "Chen", "Dev", "Ella", "Femi", "Gita", "Hal", "Iris", "Jon", "Kai", "Lola"]
LAST = ["Smith", "Jones", "Patel", "Khan", "Evans", "Brown", "Taylor", "Singh", "Wright", "Hall"]


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
        self.rng = random.Random(f"{seed}:{existing}")  # noqa: S311 - demo data, not secrets
        self.password_hash = make_password(settings.DEMO_PASSWORD or "innovate-demo")
        self._check_configuration()
        wanted = max(proposals, 0) - existing
        made = 0
        try:
            # One transaction for all of it, so a failure part-way writes nothing. (The
            # chunks keep memory flat; PostgreSQL holds a million rows in one transaction.)
            with transaction.atomic():
                self._accounts()
                self._people()
                self._challenges()
                while made < wanted:
                    size = min(CHUNK, wanted - made)
                    self._chunk(size, first=(made == 0 and existing == 0))
                    made += size
                    if wanted > CHUNK:
                        self.stdout.write(f"  {made:,} of {wanted:,} proposals")
                if made:
                    self._reset_sequences()
        except DatabaseError as error:
            raise CommandError(
                f"seed_demo could not write the demo data, so it wrote nothing: {error}"
            ) from error
        if made and connection.vendor == "postgresql":
            # Bulk loads leave the planner's statistics stale, and the visibility
            # map unset (so no index-only scans), until autovacuum catches up:
            # at 1,000,000 proposals the triage dashboard took 711 ms before
            # VACUUM ANALYZE and 146 ms after. VACUUM cannot run in a transaction
            # (as under a test), where statistics alone are refreshed.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Proposal.objects.count():,} proposals "
                f"({made:,} added in {time.monotonic() - started:.1f}s)."
            )
        )

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

    def _chunk(self, size: int, *, first: bool) -> None:
        rng = self.rng
        now = timezone.now()
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
        dept_weights = [
            20 if d.slug == "dfe" else 15 if d.slug == "home-office" else 2 for d in departments
        ]
        all_people = [pk for pks in people.values() for pk in pks]
        demo = dict(User.objects.filter(email__endswith=".example").values_list("email", "pk"))
        criteria: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for pk, department_id, weight in Criterion.objects.filter(active=True).values_list(
            "pk", "department_id", "weight"
        ):
            criteria[department_id].append((pk, weight))
        theme_ids = list(Theme.objects.values_list("pk", flat=True))
        challenge_ids = list(Challenge.objects.values_list("pk", flat=True))
        statuses = list(STATUS_WEIGHTS)
        status_weights = list(STATUS_WEIGHTS.values())
        sequences = {
            (s.department_id, s.year): s for s in ReferenceSequence.objects.select_for_update()
        }

        w = _BulkWriter()
        last_open: dict[int, uuid.UUID] = {}
        dfe = next(d for d in departments if d.slug == "dfe")
        home_office = next(d for d in departments if d.slug == "home-office")
        # The first chunk gives the demo accounts something in every state.
        scripted: list[tuple[Department, Status, int]] = []
        if first:
            for status in statuses:
                scripted.append((dfe, status, demo["submitter@dfe.example"]))
            for status in (Status.DRAFT, Status.SUBMITTED, Status.COMPLETED, Status.REJECTED):
                scripted.append((home_office, status, demo["submitter@homeoffice.example"]))
            for _ in range(4):  # a triage queue and assessments waiting for the DfE panel
                scripted.append((dfe, Status.SUBMITTED, rng.choice(people[dfe.pk])))
                scripted.append((dfe, Status.IN_REVIEW, rng.choice(people[dfe.pk])))

        for index in range(size):
            if index < len(scripted):
                department, status, submitter = scripted[index]
            else:
                department = rng.choices(departments, dept_weights)[0]
                status = rng.choices(statuses, status_weights)[0]
                submitter = rng.choice(people[department.pk])
            created = now - dt.timedelta(days=rng.uniform(1, 700))
            year = created.year
            sequence = sequences.get((department.pk, year))
            if sequence is None:
                sequence = ReferenceSequence.objects.create(
                    department=department, year=year, last_number=0
                )
                sequences[(department.pk, year)] = sequence
            sequence.last_number += 1
            reference = f"{department.reference_prefix}-{year}-{sequence.last_number:04d}"
            action, subject = rng.choice(ACTIONS), rng.choice(SUBJECTS)
            who = rng.choice(USERS)
            submitted = (
                None
                if status == Status.DRAFT
                else min(created + dt.timedelta(days=rng.uniform(0.5, 10)), now)
            )
            decided = (
                min(submitted + dt.timedelta(days=rng.uniform(5, 45)), now)
                if status in DECIDED and submitted
                else None
            )
            updated = max(t for t in (created, submitted, decided) if t is not None)
            pid = uuid.UUID(int=rng.getrandbits(128), version=4)
            merged_into = last_open.get(department.pk) if status == Status.MERGED else None
            if merged_into is None and status == Status.MERGED:
                status = Status.WITHDRAWN
            estimated = rng.choice([None, 5_000, 20_000, 80_000, 250_000, 1_200_000])
            w.add(
                Proposal,
                id=pid,
                # Counted up by the database as the supports below are written.
                support_count=0,
                reference=reference,
                title=f"{action} {subject}"[:150],
                summary=f"{action} {subject} so that {who} spend less time on routine work.",
                problem=f"Today {subject} {rng.choice(PROBLEMS)}.",
                who_has_the_problem=f"{who.capitalize()} in {department.name}.",
                proposed_solution=f"{action} {subject}, starting with a 12-week pilot.",
                expected_benefits=rng.choice(BENEFITS),
                cost_band=rng.choice(CostBand.values),
                estimated_benefit_gbp=estimated,
                hours_saved_per_year=rng.choice([None, 500, 2_000, 10_000]),
                department_id=department.pk,
                submitter_id=submitter,
                challenge_id=rng.choice(challenge_ids)
                if challenge_ids and rng.random() < 0.1
                else None,
                visibility=Visibility.DEPARTMENT if rng.random() < 0.15 else Visibility.GOVERNMENT,
                status=status,
                merged_into_id=merged_into,
                previous_id=None,
                feedback_released=status in DECIDED and rng.random() < 0.5,
                next_step=rng.choice(NextStep.values) if status == Status.COMPLETED else "",
                created_at=created,
                updated_at=updated,
                submitted_at=submitted,
                decided_at=decided,
                version=1,
            )
            if status in {Status.SUBMITTED, Status.IN_REVIEW, Status.MORE_INFO}:
                last_open[department.pk] = pid
            for theme in rng.sample(theme_ids, min(len(theme_ids), rng.choice([1, 1, 2]))):
                w.add(Proposal.themes.through, proposal_id=pid, theme_id=theme)

            lead = leads.get(department.pk) or rng.choice(people[department.pk])
            self._history(
                w, pid, reference, department, submitter, lead, status, created, submitted, decided
            )
            if (
                status in REVIEWED
                or status == Status.IN_REVIEW
                or (status == Status.REJECTED and rng.random() < 0.5)
            ):
                self._assessments(
                    w,
                    pid,
                    department,
                    submitter,
                    status,
                    submitted,
                    decided,
                    reviewers,
                    criteria,
                    demo,
                )
            if status in {Status.EXPERIMENTING, Status.COMPLETED}:
                self._experiment(w, pid, lead, status, decided or now, now, department.pk)
            if status not in {Status.DRAFT} and rng.random() < 0.25:
                w.add(
                    Comment,
                    proposal_id=pid,
                    author_id=rng.choice(all_people),
                    body="We tried something similar last year; happy to share what we learned.",
                    created_at=updated,
                    edited_at=None,
                )
            if status not in {Status.DRAFT, Status.WITHDRAWN} and rng.random() < 0.35:
                for supporter in set(rng.sample(all_people, rng.randint(1, 3))) - {submitter}:
                    w.add(Support, proposal_id=pid, user_id=supporter, created_at=updated)
        w.flush()
        for sequence in sequences.values():
            sequence.save(update_fields=["last_number"])

    def _history(
        self,
        w: _BulkWriter,
        pid: uuid.UUID,
        reference: str,
        department: Department,
        submitter: int,
        lead: int,
        status: Status,
        created: dt.datetime,
        submitted: dt.datetime | None,
        decided: dt.datetime | None,
    ) -> None:
        def event(
            actor: int,
            action: str,
            when: dt.datetime,
            before: str | None,
            after: str,
            audience: AuditAudience = AuditAudience.EVERYONE,
        ) -> None:
            w.add(
                AuditEvent,
                proposal_id=pid,
                proposal_reference=reference,
                department_id=department.pk,
                actor_id=actor,
                action=action,
                object_type="proposal",
                object_id=str(pid),
                changes={"status": [before, after]},
                audience=audience,
                created_at=when,
            )

        event(submitter, "create", created, None, Status.DRAFT, AuditAudience.AUTHORS)
        if submitted is None:
            return
        event(submitter, "submit", submitted, Status.DRAFT, Status.SUBMITTED)
        if status in {Status.WITHDRAWN}:
            event(submitter, "withdraw", submitted, Status.SUBMITTED, Status.WITHDRAWN)
        elif status == Status.MORE_INFO:
            event(lead, "request_info", submitted, Status.SUBMITTED, Status.MORE_INFO)
            w.add(
                Decision,
                proposal_id=pid,
                kind=DecisionKind.MORE_INFO,
                rationale="Please add an estimate of the hours saved.",
                decided_by_id=lead,
                created_at=submitted,
            )
        elif status == Status.MERGED:
            event(lead, "merge", submitted, Status.SUBMITTED, Status.MERGED)
        elif status in DECIDED or status == Status.IN_REVIEW:
            event(lead, "accept", submitted, Status.SUBMITTED, Status.IN_REVIEW)
            if decided is not None:
                approve = status in REVIEWED
                event(
                    lead,
                    "approve" if approve else "reject",
                    decided,
                    Status.IN_REVIEW,
                    Status.APPROVED if approve else Status.REJECTED,
                )
                w.add(
                    Decision,
                    proposal_id=pid,
                    kind=DecisionKind.APPROVE if approve else DecisionKind.REJECT,
                    rationale="Strong user need and good value for money."
                    if approve
                    else "The benefits are not yet clear enough to fund.",
                    decided_by_id=lead,
                    created_at=decided,
                )

    def _assessments(
        self,
        w: _BulkWriter,
        pid: uuid.UUID,
        department: Department,
        submitter: int,
        status: Status,
        submitted: dt.datetime | None,
        decided: dt.datetime | None,
        reviewers: dict[int, list[int]],
        criteria: dict[int, list[tuple[int, Decimal]]],
        demo: dict[str, int],
    ) -> None:
        rng = self.rng
        panel = [r for r in reviewers.get(department.pk, []) if r != submitter]
        if not panel or submitted is None or not criteria.get(department.pk):
            return  # no one to assess, or nothing to score against
        assessors = rng.sample(panel, min(len(panel), rng.choice([1, 2])))
        if status == Status.IN_REVIEW and department.slug == "dfe":
            assessors = [demo["assessor@dfe.example"]]
        for assessor in assessors:
            done = status != Status.IN_REVIEW or rng.random() < 0.4
            if assessor == demo.get("assessor@dfe.example") and status == Status.IN_REVIEW:
                done = False  # leave the demo assessor work to do
            aid = w.next_id(Assessment)
            w.add(
                Assignment,
                proposal_id=pid,
                reviewer_id=assessor,
                assigned_by_id=assessor,
                created_at=submitted,
            )
            pairs = [(rng.randint(2, 5), weight) for _, weight in criteria[department.pk]]
            w.add(
                Assessment,
                id=aid,
                proposal_id=pid,
                assessor_id=assessor,
                conflict_declared=False if done else None,
                conflict_details="",
                recommendation=(
                    Recommendation.FUND if status in REVIEWED else Recommendation.DO_NOT_FUND
                )
                if done
                else "",
                comment="Clear problem; the pilot should measure time saved." if done else "",
                weighted_score=scoring.weighted_score(pairs) if done else None,
                created_at=submitted,
                submitted_at=(decided or submitted) if done else None,
            )
            if done:
                for (criterion, _), (score, _) in zip(criteria[department.pk], pairs, strict=True):
                    w.add(Score, assessment_id=aid, criterion_id=criterion, score=score, comment="")

    def _experiment(
        self,
        w: _BulkWriter,
        pid: uuid.UUID,
        lead: int,
        status: Status,
        approved: dt.datetime,
        now: dt.datetime,
        department_id: int,
    ) -> None:
        rng = self.rng
        eid = w.next_id(Experiment)
        starts = (approved + dt.timedelta(days=7)).date()
        completed = status == Status.COMPLETED
        ends = starts + dt.timedelta(days=rng.choice([42, 84, 120]))
        w.add(
            Experiment,
            id=eid,
            proposal_id=pid,
            title="12-week pilot in two regional offices",
            we_believe="giving caseworkers automatic form reading",
            will_result_in="faster processing with fewer errors",
            we_will_know_when="processing time falls by a third",
            lead_id=lead,
            starts_on=starts,
            ends_on=ends,
            budget_gbp=rng.choice([10_000, 25_000, 60_000]),
            status=ExperimentStatus.COMPLETED if completed else ExperimentStatus.RUNNING,
            started_at=approved,
            stopped_at=None,
            created_at=approved,
            updated_at=approved,
        )
        metrics = []
        for name, unit, baseline, target, direction in [
            ("Processing time", "days", Decimal(12), Decimal(8), Direction.DECREASE),
            ("Error rate", "%", Decimal(6), Decimal(3), Direction.DECREASE),
        ]:
            mid = w.next_id(Metric)
            metrics.append((mid, baseline, target))
            w.add(
                Metric,
                id=mid,
                experiment_id=eid,
                name=name,
                unit=unit,
                baseline=baseline,
                target=target,
                direction=direction,
            )
        result = rng.choices(OutcomeResult.values, [35, 25, 30, 10])[0]
        published = min(approved + dt.timedelta(days=140), now)
        # An evaluation plan of each Magenta Book type in turn; about half of the
        # completed ones have published their report, the rest are overdue or due.
        kind = EVALUATION_DEMO[eid % len(EVALUATION_DEMO)]
        reported = completed and rng.random() < 0.5
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
            lead_department_id=department_id,
            cost_gbp=rng.choice([5_000, 12_000, 30_000]),
            plan_link="",
            evaluation_start=starts - dt.timedelta(days=14),
            evaluation_end=ends + dt.timedelta(days=56),
            intervention_start=starts,
            intervention_end=ends,
            final_report_due=ends + dt.timedelta(weeks=12),
            actual_evaluation_start=starts - dt.timedelta(days=14),
            actual_evaluation_end=None,
            actual_intervention_start=starts,
            actual_intervention_end=ends if completed else None,
            final_report_published=(published + dt.timedelta(weeks=10)).date()
            if reported
            else None,
            report_link="https://www.gov.uk/government/publications/demo-evaluation-report"
            if reported
            else "",
            reason_unpublished="" if reported else rng.choice(["sign_off", "resource", ""]),
            report_due_reminded_at=None,
            report_overdue_reminded_at=None,
            created_at=approved,
            updated_at=approved,
        )
        if not completed:
            return
        oid = w.next_id(Outcome)
        reviews = [(published + dt.timedelta(days=d)).date() for d in (182, 365)]
        w.add(
            Outcome,
            id=oid,
            experiment_id=eid,
            result=result,
            lessons=(
                "Staff adopted the tool quickly, but scanned forms of poor quality still "
                "needed checking by hand."
                if result != OutcomeResult.NOT_MET
                else "The error rate did not fall: the forms vary too much for the model."
            ),
            recommendation={"met": "scale", "partly_met": "iterate"}.get(result, "stop"),
            realised_benefit_gbp=rng.choice([0, 15_000, 60_000, 150_000]),
            realised_hours_saved=rng.choice([0, 400, 1_500, 5_000]),
            benefit_owner_id=lead,
            benefit_review_on=reviews[0],
            published=True,
            published_at=published,
            recorded_by_id=lead,
            created_at=published,
            updated_at=published,
        )
        for due in reviews:
            w.add(
                BenefitReview,
                id=w.next_id(BenefitReview),
                outcome_id=oid,
                due_on=due,
                reviewed_on=None,
                realised_benefit_gbp=None,
                realised_hours_saved=None,
                note="",
                reviewed_by_id=None,
                reminded_at=None,
            )
        for mid, baseline, target in metrics:
            actual = target if result == OutcomeResult.MET else (baseline + target) / 2
            w.add(MetricActual, outcome_id=oid, metric_id=mid, value=actual)

    def _reset_sequences(self) -> None:
        """Explicit ids were written; move each table's id sequence past them."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in _BulkWriter.AUTO_ID_MODELS:
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


class _BulkWriter:
    """Buffers rows per model and writes them with COPY (PostgreSQL) or executemany."""

    AUTO_ID_MODELS: Sequence[type[models.Model]] = (
        Assessment,
        Experiment,
        Metric,
        Outcome,
        EvaluationPlan,
        BenefitReview,
    )

    def __init__(self) -> None:
        self.rows: dict[type[models.Model], list[dict[str, Any]]] = defaultdict(list)
        self.ids: dict[type[models.Model], int] = {}

    def next_id(self, model: type[models.Model]) -> int:
        if model not in self.ids:
            self.ids[model] = model._default_manager.aggregate(m=models.Max("id"))["m"] or 0
        self.ids[model] += 1
        return self.ids[model]

    def add(self, model: type[models.Model], **values: Any) -> None:
        self.rows[model].append(values)

    def flush(self) -> None:
        # Parents before children, so foreign keys hold at every step.
        order: list[type[models.Model]] = [
            Proposal,
            Proposal.themes.through,
            AuditEvent,
            Decision,
            Assignment,
            Assessment,
            Score,
            Experiment,
            EvaluationPlan,
            Metric,
            Outcome,
            BenefitReview,
            MetricActual,
            Comment,
            Support,
        ]
        for model in order:
            rows = self.rows.pop(model, [])
            if rows:
                self._write(model, rows)

    def _write(self, model: type[models.Model], rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
                # The raw psycopg cursor's errors, as Django's (IntegrityError…).
                with (
                    connection.wrap_database_errors,
                    cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(
                            [
                                Jsonb(row[f.attname])
                                if f.attname in json_fields
                                else row[f.attname]
                                for f in fields
                            ]
                        )
            else:
                placeholders = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                    [[_adapt(f, row[f.attname]) for f in fields] for row in rows],
                )


def _adapt(field: models.Field, value: Any) -> Any:
    """What Django would store on SQLite for this value."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
