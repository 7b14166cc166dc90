"""What the demo says: plausible UK government ideas, each with its own experiment,
metrics and lessons, so that no two proposals, experiments or lessons read alike.

An idea belongs to the departments named in it (none: any department). A proposal
is an idea in a place ("… in Greater Manchester"); its experiment pilots the idea
there and measures the idea's own metrics; its lesson is written from the numbers
the experiment got, the idea's own finding and what happens next.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from proposals.enums import Direction, NextStep, OutcomeResult


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str
    baseline: tuple[float, float]  # the range a pilot's baseline is drawn from
    change: float  # the improvement a pilot aims for, as a share of the baseline
    direction: Direction
    places: int = 0  # decimal places of the figures


@dataclass(frozen=True)
class Idea:
    departments: tuple[str, ...]
    titles: tuple[str, ...]
    summary: str
    problem: str
    who: str
    solution: str
    benefits: str
    themes: tuple[str, ...]
    pilot: str  # "… pilot of <pilot> in <place>"
    believe: str  # "We believe that <believe> …"
    result_in: str  # "… will result in <result_in>"
    metrics: tuple[MetricSpec, ...]
    worked: str  # what the team found when it worked
    failed: str  # … and when it did not


D, UP = Direction.DECREASE, Direction.INCREASE

IDEAS: tuple[Idea, ...] = (
    # --- Department for Education --------------------------------------------------------
    Idea(
        ("dfe",),
        ("Pre-fill school admission appeal forms", "Start admission appeals from the application"),
        "Parents appealing a school place start from their original application, not a blank form.",
        "Appeal forms arrive without the application reference or the preferences, so clerks "
        "chase parents before an appeal can be listed.",
        "Parents appealing a school place and the admissions clerks of local authorities.",
        "Carry the application's details into the appeal form and check it is complete before "
        "it is sent.",
        "Fewer incomplete appeals and hearings listed sooner.",
        ("digital-services", "citizen-services"),
        "appeal form pre-fill",
        "pre-filling appeal forms from the original school application",
        "parents submitting complete appeals first time",
        (
            MetricSpec("Appeals returned incomplete", "%", (22, 34), 0.55, D),
            MetricSpec("Days from appeal to hearing", "days", (35, 48), 0.25, D),
        ),
        "Clerks stopped chasing references; most of the time saved went into listing hearings.",
        "Parents who applied on paper could not be matched to their application, and they "
        "were the ones most likely to send incomplete appeals.",
    ),
    Idea(
        ("dfe",),
        ("Use AI to draft lesson plans for teachers", "AI lesson planning assistant for teachers"),
        "A generative AI assistant drafts lesson plans from the national curriculum for teachers "
        "to edit.",
        "Teachers spend evenings and weekends writing plans that colleagues elsewhere have "
        "already written.",
        "Classroom teachers in primary and secondary schools.",
        "A planning assistant, grounded in curriculum content, that drafts a plan a teacher "
        "edits and owns.",
        "Teachers get back hours each week for teaching and marking.",
        ("ai", "workforce-and-skills"),
        "the lesson planning assistant",
        "giving teachers a curriculum-grounded planning assistant",
        "less time spent planning without worse lessons",
        (
            MetricSpec("Hours spent planning a week", "hours", (6, 9), 0.3, D, 1),
            MetricSpec("Teachers rating draft plans usable", "%", (35, 50), 0.6, UP),
        ),
        "Plans for maths and science needed little editing; teachers used the time for marking.",
        "Teachers rewrote most drafts for mixed-ability classes, so the time saved was small.",
    ),
    Idea(
        ("dfe",),
        (
            "Share attendance data between schools and councils daily",
            "Daily attendance data for council attendance teams",
        ),
        "Schools share registers with councils every day, so persistent absence is seen in weeks "
        "rather than terms.",
        "Councils see attendance a term late, when a child has already missed weeks of school.",
        "Attendance officers in councils and pastoral staff in schools.",
        "A daily feed of register data from management information systems to the council's "
        "attendance team.",
        "Children missing school are helped sooner.",
        ("data-and-analytics",),
        "daily attendance sharing",
        "sharing school registers with councils every day",
        "earlier help for children who are persistently absent",
        (
            MetricSpec("Days to spot persistent absence", "days", (30, 45), 0.65, D),
            MetricSpec("Persistently absent pupils contacted in 2 weeks", "%", (18, 28), 0.9, UP),
        ),
        "Attendance officers reached families weeks earlier; schools liked not filling in returns.",
        "Two of the three management information systems could not send daily data, so the "
        "feed covered too few schools to change practice.",
    ),
    Idea(
        ("dfe",),
        (
            "Check free school meals eligibility automatically",
            "Auto-enrol eligible children for free school meals",
        ),
        "Councils check benefit data to enrol eligible children for free school meals without "
        "an application.",
        "About one in ten eligible children are not registered because their families never apply.",
        "Families on low incomes and school business managers.",
        "A monthly eligibility check against benefit records, with an opt-out for families.",
        "More eligible children fed at school, and more pupil premium funding for schools.",
        ("automation", "citizen-services"),
        "automatic free school meals enrolment",
        "enrolling eligible children from benefit data",
        "more eligible children getting free school meals",
        (
            MetricSpec("Eligible children not registered", "%", (9, 13), 0.5, D, 1),
            MetricSpec("Cost per eligibility check", "£", (3.5, 4.8), 0.7, D, 2),
        ),
        "Registrations rose in the first month and almost no families opted out.",
        "The data sharing agreement took most of the pilot to sign, so few checks ran.",
    ),
    Idea(
        ("dfe",),
        ("Apply online for teacher training bursaries", "Digital teacher training bursary claims"),
        "Trainee teachers apply for bursaries online instead of through their provider's "
        "spreadsheet.",
        "Bursary claims are collected in spreadsheets from each provider and re-keyed by hand.",
        "Trainee teachers and teacher training providers.",
        "An online claim with the trainee's course details taken from the apply service.",
        "Trainees paid on time and fewer errors in payments.",
        ("digital-services", "automation"),
        "online bursary claims",
        "letting trainees claim bursaries online",
        "trainees paid sooner and fewer wrong payments",
        (
            MetricSpec("Days to pay a bursary", "days", (20, 30), 0.55, D),
            MetricSpec("Claims abandoned part-way", "%", (25, 35), 0.5, D),
        ),
        "Providers stopped sending spreadsheets; payments went out in the first week of term.",
        "Trainees on school-led routes were missing from the apply data, so their claims failed.",
    ),
    Idea(
        ("dfe",),
        (
            "Forecast demand for special educational needs places",
            "Predict SEND school place demand by area",
        ),
        "A forecast of special educational needs places by area, from health and school data.",
        "Councils find out too late that they lack specialist places, and children travel "
        "out of area at high cost.",
        "SEND commissioners in councils and families of children with an education, health "
        "and care plan.",
        "A model that forecasts specialist places needed three years ahead, updated termly.",
        "Fewer costly out-of-area placements.",
        ("data-and-analytics", "ai"),
        "the SEND place forecast",
        "forecasting specialist places from health and school data",
        "councils commissioning places before children need them",
        (
            MetricSpec("Forecast error", "%", (15, 22), 0.5, D, 1),
            MetricSpec("Out-of-area placements", "placements", (110, 170), 0.25, D),
        ),
        "Two councils commissioned new units a year earlier than they would have.",
        "Diagnosis data arrived too late to help, so the model was no better than last year's "
        "numbers.",
    ),
    Idea(
        ("dfe",),
        ("Smart meters to cut energy use in schools", "Cut school energy bills with smart meters"),
        "Half-hourly energy data shows schools where heating and lighting run when nobody is in.",
        "Schools pay for heating at weekends and holidays without knowing it.",
        "School business managers and estates teams in academy trusts.",
        "Smart meters with a simple dashboard and alerts for out-of-hours use.",
        "Lower energy bills and emissions.",
        ("sustainability",),
        "school smart meters",
        "showing schools their out-of-hours energy use",
        "lower energy use per pupil",
        (
            MetricSpec("Energy use per pupil", "kWh", (560, 680), 0.15, D),
            MetricSpec("Schools with half-hourly data", "%", (10, 20), 3.5, UP),
        ),
        "Most savings came from heating timers that had not been changed for years.",
        "Meters were installed late in the heating season, so there was little use to cut.",
    ),
    # --- Home Office -----------------------------------------------------------------------
    Idea(
        ("home-office",),
        ("Check passport photos automatically at upload", "Instant passport photo checks"),
        "Applicants learn at once whether their photo meets the rules, not weeks later.",
        "Applications are held for weeks because the photo is rejected after a caseworker looks.",
        "People applying for a passport online and passport examiners.",
        "An automatic photo check with clear advice while the applicant is still online.",
        "Fewer delayed passports and fewer calls to the advice line.",
        ("ai", "citizen-services"),
        "automatic photo checks",
        "checking photos automatically at upload",
        "fewer applications held for a new photo",
        (
            MetricSpec("Applications held for a new photo", "%", (7, 11), 0.6, D, 1),
            MetricSpec("Days to issue a passport", "days", (12, 17), 0.3, D),
        ),
        "Applicants retook photos on the spot; holds for photos almost disappeared.",
        "The check rejected too many good photos of darker-skinned applicants, so it was "
        "switched off: an equality impact the lab tests had missed.",
    ),
    Idea(
        ("home-office",),
        ("Triage visa applications by complexity", "Stream straightforward visa applications"),
        "Straightforward visa applications go to a fast stream, complex ones to senior "
        "caseworkers.",
        "Every application waits in one queue, however simple, so simple cases wait as long "
        "as hard ones.",
        "Visa applicants and caseworkers in UK Visas and Immigration.",
        "Rules that stream applications by complexity, checked by a caseworker, never deciding.",
        "Faster decisions for most applicants and more time for difficult cases.",
        ("automation",),
        "complexity streaming",
        "streaming visa applications by complexity",
        "faster decisions without more refusals overturned",
        (
            MetricSpec("Median days to a decision", "days", (32, 45), 0.4, D),
            MetricSpec("Caseworker hours per application", "hours", (2.8, 3.6), 0.3, D, 1),
        ),
        "The fast stream cleared its cases in days and the backlog of complex cases fell too.",
        "Too many cases were moved between streams after a first look, which cost the time saved.",
    ),
    Idea(
        ("home-office", "moj"),
        ("Share digital evidence between police and prosecutors", "One digital case file"),
        "Police and prosecutors work on one digital case file instead of sending discs and PDFs.",
        "Case files go back and forth because evidence is missing or unreadable.",
        "Police file builders and Crown Prosecution Service lawyers.",
        "A shared case file with checks for missing evidence before it is sent.",
        "Fewer files returned and quicker charging decisions.",
        ("data-and-analytics", "digital-services"),
        "the shared case file",
        "sharing one digital case file",
        "fewer case files returned for missing evidence",
        (
            MetricSpec("Files returned for missing evidence", "%", (20, 28), 0.55, D),
            MetricSpec("Days from charge to complete file", "days", (10, 15), 0.45, D),
        ),
        "Missing-evidence returns halved; body-worn video was the piece that mattered most.",
        "Forces used different video formats, and converting them took longer than the discs did.",
    ),
    Idea(
        ("home-office",),
        ("Report a lost or stolen passport online", "Online lost passport reporting"),
        "People report a lost or stolen passport online at any time, and it is cancelled at once.",
        "Reports are taken by phone in office hours, so passports stay valid for days after loss.",
        "People who have lost a passport and contact centre staff.",
        "An online report that cancels the passport and starts a replacement.",
        "Fewer calls and lost passports cancelled sooner.",
        ("citizen-services", "digital-services"),
        "online lost passport reports",
        "letting people report a lost passport online",
        "fewer calls and faster cancellations",
        (
            MetricSpec("Calls about lost passports a week", "calls", (3800, 4600), 0.4, D),
            MetricSpec("Reports made online", "%", (30, 40), 1.0, UP),
        ),
        "Most reports came in the evening, when the phone line was closed.",
        "People still called to check the report had worked, so calls hardly fell.",
    ),
    Idea(
        ("home-office",),
        ("Route correspondence with text classification", "Sort incoming letters automatically"),
        "Letters and emails are sorted to the right team by a classifier, checked by a person.",
        "A fifth of correspondence goes to the wrong team first and waits again in another inbox.",
        "Correspondence teams and people writing to the department.",
        "A text classifier that suggests the team, with a person confirming each suggestion.",
        "More letters answered on time.",
        ("ai", "automation"),
        "automatic correspondence routing",
        "suggesting the right team for each letter",
        "more correspondence answered within 20 working days",
        (
            MetricSpec("Letters answered in 20 working days", "%", (42, 55), 0.55, UP),
            MetricSpec("Letters sent to the wrong team", "%", (14, 20), 0.7, D),
        ),
        "Staff accepted nine in ten suggestions; misrouted letters fell sharply.",
        "Handwritten letters were scanned too poorly to classify and made up a third of the post.",
    ),
    # --- other departments ---------------------------------------------------------------
    Idea(
        ("dwp",),
        ("Report a change of circumstances online", "Verify changes of circumstances digitally"),
        "Claimants report a change online with evidence checked against other records.",
        "Changes reported by post take weeks to process and cause overpayments.",
        "Benefit claimants and processing staff.",
        "An online change report with automatic checks against HMRC and council data.",
        "Fewer overpayments and less debt for claimants.",
        ("digital-services", "data-and-analytics"),
        "online change reporting",
        "checking reported changes against other records",
        "changes applied before the next payment",
        (
            MetricSpec("Days to apply a change", "days", (15, 22), 0.6, D),
            MetricSpec("Overpayments from late changes", "£m a year", (40, 52), 0.3, D),
        ),
        "Most changes were applied before the next payment, so overpayments fell.",
        "The council data arrived monthly, so the check could not be done in time.",
    ),
    Idea(
        ("dwp",),
        ("Answer journal questions with a chatbot", "Chatbot for Universal Credit journals"),
        "A chatbot answers common questions in the Universal Credit journal, passing others to "
        "a work coach.",
        "Work coaches spend hours on questions the guidance already answers.",
        "Universal Credit claimants and work coaches.",
        "A chatbot trained on published guidance, handing over to a person when unsure.",
        "Work coaches spend more time helping people into work.",
        ("ai", "citizen-services"),
        "the journal chatbot",
        "answering common journal questions automatically",
        "fewer journal messages needing a work coach",
        (
            MetricSpec("Journal messages needing a work coach", "%", (65, 75), 0.35, D),
            MetricSpec("Answers rated helpful", "%", (50, 60), 0.35, UP),
        ),
        "Questions about payment dates were handled well; work coaches noticed the difference.",
        "Claimants asked about their own case, which the chatbot could not see, and rated "
        "it poorly.",
    ),
    Idea(
        ("hmrc",),
        ("Nudge letters for late tax returns", "Behavioural nudges for self assessment"),
        "Reworded reminder letters, tested on self assessment taxpayers likely to file late.",
        "Late filing leads to penalties, appeals and work for everyone.",
        "Self assessment taxpayers and HMRC's debt teams.",
        "Reminders that use social norms and a clear deadline, sent to those likely to be late.",
        "Fewer late returns and penalty appeals.",
        ("data-and-analytics",),
        "reworded reminders",
        "sending reworded reminders to those likely to file late",
        "fewer late returns",
        (
            MetricSpec("Returns filed late", "%", (6, 7.5), 0.2, D, 1),
            MetricSpec("Penalty appeals a month", "appeals", (2800, 3400), 0.2, D),
        ),
        "The social norm wording worked best; the deadline in bold mattered less than expected.",
        "The letters arrived in the same week as a national campaign, which swamped the effect.",
    ),
    Idea(
        ("hmrc",),
        ("Pre-populate tax returns from third-party data", "Pre-filled self assessment returns"),
        "Returns start filled in with the income HMRC already knows about.",
        "Taxpayers re-type figures HMRC already holds, and get them wrong.",
        "Self assessment taxpayers and their agents.",
        "Pre-populate employment, pension and interest income for the taxpayer to check.",
        "Quicker returns and fewer amendments.",
        ("automation", "digital-services"),
        "pre-filled returns",
        "pre-filling returns with the income HMRC holds",
        "quicker, more accurate returns",
        (
            MetricSpec("Minutes to complete a return", "minutes", (85, 105), 0.4, D),
            MetricSpec("Returns amended after filing", "%", (7, 9), 0.35, D, 1),
        ),
        "Taxpayers finished faster and agents asked for it for all their clients.",
        "Interest figures from banks were often late or wrong, and taxpayers stopped trusting "
        "the pre-filled figures.",
    ),
    Idea(
        ("hmcts", "moj"),
        ("Publish court listings with automatic notification", "Tell parties when hearings move"),
        "Parties are told by text and email when their hearing is listed or moved.",
        "People miss hearings because they did not hear that the time changed.",
        "Court users, their representatives and listing officers.",
        "Automatic notifications from the listing system whenever a hearing changes.",
        "Fewer adjourned hearings and fewer calls to court staff.",
        ("digital-services", "citizen-services"),
        "listing notifications",
        "telling parties automatically when hearings change",
        "fewer hearings adjourned for non-attendance",
        (
            MetricSpec("Hearings adjourned for non-attendance", "%", (12, 16), 0.4, D),
            MetricSpec("Calls to court staff a week", "calls", (800, 1000), 0.4, D),
        ),
        "Non-attendance fell most in the family court, where hearings move most often.",
        "Contact details in the case system were out of date for a third of parties.",
    ),
    Idea(
        ("moj",),
        ("Book prison visits online", "Online prison visit booking"),
        "Families book prison visits online rather than by phone in a two-hour window.",
        "Families call for hours to book a visit, and slots go unused when plans change.",
        "Families of people in prison and visits staff.",
        "An online booking service with a cancellation list.",
        "More visits happen, which helps rehabilitation.",
        ("digital-services", "citizen-services"),
        "online visit booking",
        "letting families book and cancel visits online",
        "more visit slots used",
        (
            MetricSpec("Visits booked online", "%", (15, 25), 2.0, UP),
            MetricSpec("Visit slots left unused", "%", (15, 20), 0.5, D),
        ),
        "Families booked in the evenings and freed slots were taken within hours.",
        "Visits staff kept a paper diary alongside, so slots were double-booked.",
    ),
    Idea(
        ("defra",),
        ("Flood alerts by text from river sensors", "Earlier flood warnings from sensor data"),
        "River level sensors trigger flood alerts by text for the streets at risk.",
        "Warnings go out late because they wait for manual checks of river gauges.",
        "Households in flood risk areas and flood incident duty officers.",
        "Automatic alerts from sensor thresholds, confirmed by a duty officer.",
        "Households get hours more to move belongings and cars.",
        ("data-and-analytics", "citizen-services"),
        "sensor-triggered alerts",
        "triggering flood alerts from river sensors",
        "earlier warnings for households at risk",
        (
            MetricSpec("Warning lead time", "hours", (2, 3), 1.2, UP, 1),
            MetricSpec("Households signed up", "%", (25, 35), 0.7, UP),
        ),
        "Alerts went out hours earlier in both winter flood events.",
        "Sensors failed in the storms they were meant for, so alerts fell back to manual checks.",
    ),
    Idea(
        ("defra",),
        ("Check farm payment claims with satellite images", "Satellite checks for farm claims"),
        "Satellite images replace most field inspections for farm payment claims.",
        "Inspectors visit thousands of fields to check claims that images could confirm.",
        "Farmers and Rural Payments Agency inspectors.",
        "Satellite monitoring of claimed land, with visits only where images disagree.",
        "Fewer inspections and faster payments.",
        ("ai", "data-and-analytics"),
        "satellite claim checks",
        "checking claims with satellite images",
        "fewer field inspections and faster payments",
        (
            MetricSpec("Field inspections", "inspections", (7000, 9000), 0.6, D),
            MetricSpec("Days to pay a claim", "days", (55, 65), 0.4, D),
        ),
        "Nine in ten fields were confirmed from images; inspectors went where it mattered.",
        "Cloud cover over the uplands meant too few clear images in the claim window.",
    ),
    Idea(
        ("dft",),
        (
            "Cancellation waiting list for driving tests",
            "Offer cancelled driving tests automatically",
        ),
        "Learners on a waiting list are offered cancelled test slots automatically.",
        "Cancelled slots are snapped up by resale bots or go unused.",
        "Learner drivers and driving examiners.",
        "A waiting list that offers cancelled slots by text, with identity checks.",
        "Shorter waits and fewer unused slots.",
        ("digital-services", "citizen-services"),
        "the cancellation list",
        "offering cancelled slots to a waiting list",
        "shorter waits for a driving test",
        (
            MetricSpec("Average wait for a test", "weeks", (15, 19), 0.35, D),
            MetricSpec("Test slots left unused", "%", (6, 8), 0.7, D, 1),
        ),
        "Unused slots nearly vanished and resale bots stopped getting tests.",
        "Learners did not answer offers in time; most slots still went unused.",
    ),
    Idea(
        ("dft", "mod", "cabinet-office"),
        ("Predictive maintenance for the fleet", "Predict vehicle faults before they happen"),
        "Telematics data predicts vehicle faults so vehicles are serviced before they break down.",
        "Vehicles break down between fixed services and are off the road for weeks.",
        "Fleet managers and the staff who rely on the vehicles.",
        "A model of telematics data that schedules maintenance when faults are likely.",
        "More vehicles available and lower repair bills.",
        ("data-and-analytics", "ai"),
        "predictive maintenance",
        "servicing vehicles when the data predicts a fault",
        "fewer vehicles off the road",
        (
            MetricSpec("Vehicles off the road", "%", (8, 11), 0.4, D, 1),
            MetricSpec("Repair cost per vehicle", "£", (1000, 1300), 0.2, D),
        ),
        "Brake and battery faults were predicted well; they were most of the breakdowns.",
        "Older vehicles had no telematics, and they were the ones that broke down.",
    ),
    Idea(
        ("dhsc",),
        ("Share hospital discharge data with social care", "Plan care before discharge day"),
        "Social care teams see expected discharge dates so care is ready when patients leave.",
        "Patients wait in hospital because care packages are arranged only after discharge is "
        "confirmed.",
        "Patients, hospital discharge teams and council social workers.",
        "A shared view of expected discharge dates and care needs.",
        "Fewer delayed discharges.",
        ("data-and-analytics",),
        "shared discharge planning",
        "sharing expected discharge dates with social care",
        "fewer days spent in hospital waiting for care",
        (
            MetricSpec("Days delayed in hospital", "days", (5, 7), 0.4, D, 1),
            MetricSpec("Discharges needing a phone chase", "%", (55, 65), 0.55, D),
        ),
        "Social workers started assessments days earlier; delays fell on every ward.",
        "Expected dates changed too often to plan against, so teams went back to phoning.",
    ),
    # --- any department --------------------------------------------------------------------
    Idea(
        (),
        ("Automate freedom of information request logging", "Log FOI requests automatically"),
        "Freedom of information requests are logged and acknowledged automatically.",
        "Requests sit in shared inboxes before anyone logs them, eating into the 20 days.",
        "Information rights teams and people asking for information.",
        "Automatic logging and acknowledgement, with requests sent to the right team.",
        "More requests answered on time.",
        ("automation",),
        "automatic FOI logging",
        "logging and routing requests automatically",
        "more requests answered within 20 working days",
        (
            MetricSpec("Requests answered in 20 working days", "%", (65, 78), 0.2, UP),
            MetricSpec("Officer hours per request", "hours", (5, 7), 0.3, D, 1),
        ),
        "Requests reached teams on day one instead of day five.",
        "Most of the time was spent finding information, not logging it.",
    ),
    Idea(
        (),
        ("Standard data for procurement approvals", "Use open standards for procurement approvals"),
        "Procurement approvals use the Open Contracting Data Standard instead of bespoke forms.",
        "Approvals bounce between teams because each asks for the same facts in its own form.",
        "Commercial teams, budget holders and approvers.",
        "One approval record in an open standard, reused at every stage.",
        "Faster approvals and data that can be joined up across government.",
        ("procurement", "data-and-analytics"),
        "standard approval records",
        "using one standard record for each approval",
        "faster procurement approvals",
        (
            MetricSpec("Days to approve a contract", "days", (28, 40), 0.4, D),
            MetricSpec("Approvals sent back for missing information", "%", (22, 32), 0.6, D),
        ),
        "Approvers stopped sending cases back; the standard answered their questions.",
        "Legacy finance systems could not read the standard, so data was re-keyed anyway.",
    ),
    Idea(
        (),
        ("Digital onboarding for new starters", "Get new staff set up before day one"),
        "New starters have a laptop, accounts and building pass on their first day.",
        "New starters wait a week or more for equipment and access, and feel unwelcome.",
        "New starters, their line managers and IT service desks.",
        "One onboarding journey that orders equipment and access when the offer is accepted.",
        "Productive new starters from the first day.",
        ("workforce-and-skills", "digital-services"),
        "digital onboarding",
        "ordering equipment and access when the offer is accepted",
        "new starters able to work from day one",
        (
            MetricSpec("Days until a new starter has access", "days", (7, 11), 0.75, D),
            MetricSpec("New starters rating their first week good", "%", (45, 58), 0.4, UP),
        ),
        "Most starters had everything on day one; managers asked for it for movers too.",
        "Security clearance, not equipment, was what held starters up.",
    ),
    Idea(
        (),
        ("AI summaries of ministerial correspondence", "Draft replies to MPs with AI"),
        "A language model summarises letters from MPs and drafts a reply for officials to edit.",
        "Replies to MPs miss the target because officials start every reply from nothing.",
        "Correspondence units, policy officials and MPs.",
        "A summary and first draft from past replies and published lines, always edited by "
        "an official.",
        "Faster replies to MPs without lower quality.",
        ("ai",),
        "AI-drafted replies",
        "drafting replies from past answers and published lines",
        "faster replies to MPs",
        (
            MetricSpec("Days to reply to an MP", "days", (20, 26), 0.35, D),
            MetricSpec("Drafts rewritten by officials", "%", (60, 70), 0.35, D),
        ),
        "Officials kept most of the drafts for routine letters and replies went out sooner.",
        "Drafts repeated out-of-date lines, so officials checked every sentence.",
    ),
    Idea(
        (),
        ("Cut office energy use with occupancy sensors", "Heat and light only the floors in use"),
        "Occupancy sensors switch heating and lighting off on empty floors.",
        "Whole buildings are heated and lit on days when most staff work from home.",
        "Estates teams and everyone working in the building.",
        "Sensors and booking data that close floors on quiet days.",
        "Lower energy bills and emissions.",
        ("sustainability",),
        "occupancy-based heating",
        "heating and lighting only the floors in use",
        "lower energy use in offices",
        (
            MetricSpec("Energy use a month", "MWh", (360, 460), 0.18, D),
            MetricSpec("Desks booked but not used", "%", (25, 35), 0.5, D),
        ),
        "Closing two floors on Mondays and Fridays saved more than all the sensors.",
        "The building management system could not be controlled floor by floor.",
    ),
    Idea(
        (),
        ("Claim expenses with a mobile app", "Replace paper expense claims"),
        "Staff photograph receipts and claim expenses in an app instead of paper forms.",
        "Paper claims are lost, sent back for errors and take weeks to pay.",
        "Staff who travel for work and finance teams.",
        "A mobile app that reads receipts and checks claims against the policy.",
        "Staff reimbursed in days and fewer claims with errors.",
        ("automation", "digital-services"),
        "the expenses app",
        "claiming expenses from a phone",
        "faster reimbursement and fewer errors",
        (
            MetricSpec("Days to reimburse a claim", "days", (17, 25), 0.7, D),
            MetricSpec("Claims with errors", "%", (10, 14), 0.6, D),
        ),
        "Claims were paid in the next payroll run; finance teams stopped chasing receipts.",
        "The receipt reader struggled with hotel bills, which are most of the money.",
    ),
    Idea(
        (),
        ("Join up complaints records across teams", "One view of each complaint"),
        "Every team sees the whole history of a complaint in one record.",
        "Complaints are handled in separate systems, so people repeat themselves and escalate.",
        "People complaining and the teams answering them.",
        "One complaints record shared by the teams, with a named owner.",
        "Complaints resolved sooner and fewer escalations.",
        ("data-and-analytics", "citizen-services"),
        "the shared complaints record",
        "keeping one record of each complaint",
        "complaints resolved without escalation",
        (
            MetricSpec(
                "Complaints escalated to the ombudsman a year", "complaints", (150, 210), 0.3, D
            ),
            MetricSpec("Days to resolve a complaint", "days", (24, 32), 0.45, D),
        ),
        "Named owners made the difference: people stopped being passed between teams.",
        "Teams kept their old systems as well, so the shared record was never complete.",
    ),
)

PLACES = (
    "in the North East",
    "in Greater Manchester",
    "in two regional offices",
    "in Leeds and Bradford",
    "across the East Midlands",
    "in Cardiff and Swansea",
    "in three London boroughs",
    "in Bristol and Bath",
    "in the South West",
    "in Kent",
    "in Newcastle and Gateshead",
    "in Glasgow",
    "in Belfast",
    "in Sheffield",
    "in Cumbria",
    "in Norfolk and Suffolk",
    "in the Liverpool City Region",
    "in Birmingham",
    "at two contact centres",
    "in the West Midlands",
    "in Hampshire",
    "in Lincolnshire",
)

DESIGNS = ("pilot", "trial", "randomised trial", "A/B test", "phased pilot")

INCONCLUSIVE = (
    "Too few cases came through in the pilot weeks to tell the effect from the seasonal dip.",
    "The pilot sites changed their case management system half-way, so before and after "
    "are not comparable.",
    "Comparison sites started their own improvements, so we cannot say what made the difference.",
    "Data for the last month was incomplete, and the trend could go either way.",
)

NEXT = {
    NextStep.SCALE: (
        "We are rolling it out to every region next financial year.",
        "The service team is writing the business case to scale it nationally.",
        "Two more departments have asked for the code, which is open source.",
        "It becomes the standard way of working from next quarter.",
    ),
    NextStep.ITERATE: (
        "A second, larger trial will test the changes above.",
        "We will fix what users told us and run it again in more sites.",
        "The next round adds the groups the pilot missed.",
        "We keep it running while a longer evaluation finishes.",
    ),
    NextStep.STOP: (
        "We have stopped the pilot and returned the rest of the budget.",
        "We will not continue, but the data sharing agreement can be reused.",
        "We stopped, and wrote up the research so nobody repeats it blind.",
        "The money goes to fixing the underlying data first.",
    ),
}

COMMENTS = (
    "We tried something similar last year; happy to share what we learned.",
    "Has anyone checked whether the supplier's licence covers other departments?",
    "Our team would join a cross-government pilot of this.",
    "What happens to people who cannot use the online route? Please include assisted digital.",
    "The data protection impact assessment from our version might save you weeks.",
    "This would help our regional offices a lot — the backlog is worst there.",
    "Worth talking to the GDS service assessment team early.",
    "Can the pilot measure staff time as well as the customer outcome?",
    "We have the same problem; our figures are in the annual report if useful.",
    "Please publish the code so others can reuse it.",
    "Would the union need to be consulted before a pilot?",
    "Strong support from our operations directorate.",
)

RATIONALE = {
    "approve": (
        "Strong user need and good value for money.",
        "A clear hypothesis and a small, safe pilot: worth testing.",
        "The panel scored it highly; fund a time-boxed experiment first.",
        "Approved, with an evaluation plan to be agreed before it starts.",
        "Good reuse potential across government.",
    ),
    "reject": (
        "The benefits are not yet clear enough to fund.",
        "A similar service is already being built centrally; please join that work.",
        "The cost is too high for the evidence we have; come back with user research.",
        "The legal basis for sharing the data is not yet established.",
        "Not a priority for this year's budget, though the panel liked the idea.",
    ),
    "more_info": (
        "Please add an estimate of the hours saved.",
        "Who are the users, and how many? Please add the user research.",
        "Please say what the pilot would cost and who would run it.",
        "Please explain how personal data would be protected.",
    ),
}

ASSESSMENT_COMMENTS = {
    True: (  # fund
        "Clear problem; the pilot should measure time saved.",
        "Well-evidenced user need and a sensible, small first step.",
        "Good value if the benefits hold; insist on a proper baseline.",
        "Reusable across regions; the team has delivered similar work.",
        "Low risk and cheap to test. Fund it.",
    ),
    False: (  # do not fund
        "The benefits are asserted, not evidenced.",
        "Too expensive for an unproven idea; start with discovery.",
        "Duplicates work already under way elsewhere.",
        "No plan for users who cannot go online.",
        "The data needed is not available at the quality assumed.",
    ),
}

SCORE_COMMENTS = {
    1: ("No evidence for this.", "A serious gap."),
    2: ("Weak; needs more work.", "Some evidence, but thin."),
    3: ("Adequate.", "Reasonable, with caveats."),
    4: ("Good, with minor gaps.", "Convincing."),
    5: ("Excellent, well evidenced.", "Among the best we have seen."),
}


def quantise(value: float, places: int) -> Decimal:
    return Decimal(str(round(value, places))).quantize(Decimal(1).scaleb(-places))


def metric_plan(spec: MetricSpec, rng: random.Random) -> tuple[Decimal, Decimal]:
    """A pilot's baseline and target for one metric."""
    baseline = rng.uniform(*spec.baseline)
    change = baseline * spec.change * rng.uniform(0.7, 1.3)
    target = baseline - change if spec.direction == Direction.DECREASE else baseline + change
    target = max(target, 0.0)
    if spec.unit == "%":
        target = min(target, 100.0)
    return quantise(baseline, spec.places), quantise(target, spec.places)


def actual_value(
    result: str, first: bool, baseline: Decimal, target: Decimal, rng: random.Random, places: int
) -> Decimal:
    """What a metric reached, coherent with the outcome's result."""
    gap = float(target - baseline)
    if result == OutcomeResult.MET or (result == OutcomeResult.PARTLY_MET and first):
        share = rng.uniform(1.0, 1.3)  # reached the target, or went past it
    elif result == OutcomeResult.PARTLY_MET:
        share = rng.uniform(0.3, 0.8)
    elif result == OutcomeResult.NOT_MET:
        share = rng.uniform(-0.25, 0.2)  # no better, sometimes worse
    else:
        share = rng.uniform(0.1, 0.6)
    return max(quantise(float(baseline) + gap * share, places), Decimal(0))


def figure(value: Decimal, unit: str) -> str:
    if unit == "%":
        return f"{value}%"
    if unit == "£":
        return f"£{value:,}"
    return f"{value:,} {unit}"


def lessons_text(
    idea: Idea,
    result: str,
    recommendation: NextStep,
    figures: list[tuple[MetricSpec, Decimal, Decimal, Decimal]],
    rng: random.Random,
) -> str:
    """The lesson: what the numbers did, what the team found, what happens next."""
    spec, baseline, target, actual = figures[0]
    numbers = (
        f"{spec.name} went from {figure(baseline, spec.unit)} to {figure(actual, spec.unit)}, "
        f"against a target of {figure(target, spec.unit)}."
    )
    if result in {OutcomeResult.MET, OutcomeResult.PARTLY_MET}:
        finding = idea.worked
    elif result == OutcomeResult.NOT_MET:
        finding = idea.failed
    else:
        finding = rng.choice(INCONCLUSIVE)
    return f"{numbers} {finding} {rng.choice(NEXT[recommendation])}"


# --- the vocabulary of a million proposals ---------------------------------------------------
#
# Thirty ideas alone give a million proposals a few hundred words, each in a
# few per cent of them, where real proposals have tens of thousands in a long
# tail: a handful in a tenth of all proposals ("data", "staff"), most in a few
# hundredths of one per cent (a council, a case management system, a team).
# Each idea is told in VARIANTS_PER_IDEA ways: the same proposal, with the
# idea's everyday words sometimes in other words (SYNONYMS), at a named
# organisation of the department, on a named system, for a named group and
# from a named source of data (drawn with Zipf-like weights: a few names are
# everywhere, most are rare). Metrics, pilots and lessons stay the idea's own.

VARIANTS_PER_IDEA = 48

# Everyday words and the other words a writer uses for them; each variant picks
# one per word (the original more often than not).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "staff": ("officers", "caseworkers", "colleagues", "teams"),
    "data": ("records", "information"),
    "online": ("digitally", "on the web"),
    "forms": ("application forms", "returns"),
    "form": ("application form", "return"),
    "cost": ("expense", "spend"),
    "time": ("hours", "effort"),
    "faster": ("quicker", "sooner"),
    "check": ("verify", "validate"),
    "checks": ("verification", "validation"),
    "families": ("households", "parents and carers"),
    "people": ("citizens", "members of the public"),
    "councils": ("local authorities",),
    "letters": ("post", "paper correspondence"),
    "cases": ("casework", "files"),
    "automatically": ("without manual steps", "by rule"),
    "errors": ("mistakes", "inaccuracies"),
    "sooner": ("earlier", "more quickly"),
    "delays": ("waits", "backlogs"),
}

ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "dfe": (
        "Ofsted",
        "the Education and Skills Funding Agency",
        "Oak National Academy",
        "the Standards and Testing Agency",
        "Ark Schools",
        "the Harris Federation",
        "United Learning",
        "Academies Enterprise Trust",
        "Leeds City Council",
        "Surrey County Council",
        "Kirklees Council",
        "Wigan Council",
        "the Teaching Regulation Agency",
        "Bolton College",
        "Ormiston Academies Trust",
    ),
    "home-office": (
        "UK Visas and Immigration",
        "HM Passport Office",
        "Border Force",
        "Immigration Enforcement",
        "the Metropolitan Police",
        "West Yorkshire Police",
        "Greater Manchester Police",
        "the National Crime Agency",
        "Police Scotland",
        "the Disclosure and Barring Service",
        "Thames Valley Police",
        "Kent Police",
    ),
    "dwp": (
        "Jobcentre Plus",
        "the Child Maintenance Service",
        "the Pension Service",
        "the Health Assessment Advisory Service",
        "Access to Work",
        "the Disability Service Centre",
        "Citizens Advice",
        "Turn2us",
    ),
    "hmrc": (
        "the Valuation Office Agency",
        "the Self Assessment helpline",
        "the Customs Handling of Import and Export Freight team",
        "the Debt Management unit",
        "the Fraud Investigation Service",
        "the Charities team",
        "the Tax Credits Office",
    ),
    "hmcts": (
        "Manchester Civil Justice Centre",
        "the Royal Courts of Justice",
        "Birmingham Magistrates' Court",
        "the Employment Tribunal",
        "the Family Court",
        "the Court of Protection",
        "Leeds Combined Court",
    ),
    "moj": (
        "HM Prison and Probation Service",
        "the Legal Aid Agency",
        "the Parole Board",
        "the Youth Justice Board",
        "the Criminal Injuries Compensation Authority",
        "the Office of the Public Guardian",
        "HMP Wandsworth",
        "HMP Berwyn",
    ),
    "defra": (
        "the Environment Agency",
        "Natural England",
        "the Rural Payments Agency",
        "the Animal and Plant Health Agency",
        "the Forestry Commission",
        "Cefas",
        "the Marine Management Organisation",
        "Kew Gardens",
    ),
    "dft": (
        "the DVLA",
        "the DVSA",
        "National Highways",
        "Network Rail",
        "the Maritime and Coastguard Agency",
        "the Civil Aviation Authority",
        "Transport for London",
        "Transport for the North",
    ),
    "mod": (
        "Defence Equipment and Support",
        "the Defence Infrastructure Organisation",
        "the Royal Navy",
        "the British Army",
        "the Royal Air Force",
        "Defence Digital",
    ),
    "cabinet-office": (
        "the Government Digital Service",
        "the Crown Commercial Service",
        "the Government Property Agency",
        "the Civil Service HR function",
        "the Central Digital and Data Office",
        "the Government Security Group",
    ),
}
ANY_ORGANISATION = (
    "the finance shared service centre",
    "the regional operations directorate",
    "the central analysis unit",
    "the estates team",
    "the contact centre in Newport",
    "the policy profession",
    "the digital, data and technology function",
    "the internal audit team",
    "the commercial directorate",
    "the people team",
)

SYSTEMS = (
    "Microsoft Dynamics 365",
    "Salesforce",
    "SAP",
    "Oracle Fusion",
    "ServiceNow",
    "SharePoint",
    "Power BI",
    "Tableau",
    "GOV.UK Notify",
    "GOV.UK Pay",
    "GOV.UK Forms",
    "GOV.UK One Login",
    "Microsoft Teams",
    "Excel",
    "Google Workspace",
    "Zendesk",
    "Pega",
    "Liquidlogic",
    "Mosaic",
    "Civica",
    "Capita One",
    "Arbor",
    "SIMS",
    "Bromcom",
    "EMIS",
    "SystmOne",
    "Northgate",
    "Idox Uniform",
    "Tascomi",
    "Genesys",
    "Amazon Connect",
    "Twilio",
    "Snowflake",
    "Databricks",
    "PostgreSQL",
    "Kafka",
    "Azure OpenAI",
    "AWS Textract",
    "Tesseract",
    "Esri ArcGIS",
    "QGIS",
    "Sentinel-2",
    "Copernicus",
    "Palantir Foundry",
    "Qlik",
    "Jira",
    "Confluence",
    "Kainos Smart",
    "IBM Maximo",
    "Workday",
    "Agresso",
    "Unit4",
    "MIDAS",
    "CCMS",
    "Libra",
    "Common Platform",
)

GROUPS = (
    "first-time applicants",
    "carers",
    "veterans",
    "care leavers",
    "refugees",
    "young people not in education",
    "older people",
    "people with dyslexia",
    "deaf British Sign Language users",
    "people without a fixed address",
    "self-employed workers",
    "small businesses",
    "landlords",
    "farmers",
    "hauliers",
    "seasonal workers",
    "students",
    "apprentices",
    "shift workers",
    "rural residents",
    "Welsh speakers",
    "people on low incomes",
    "disabled people",
    "lone parents",
    "frontline managers",
    "new starters",
    "contractors",
    "volunteers",
    "magistrates",
    "probation officers",
    "social workers",
    "health visitors",
    "paramedics",
    "coastguards",
    "border officers",
    "tax agents",
    "charity trustees",
    "exporters",
)

SOURCES = (
    "the census",
    "the Labour Force Survey",
    "HMRC real time information",
    "the Police National Computer",
    "the National Pupil Database",
    "Companies House",
    "the Land Registry",
    "Ordnance Survey AddressBase",
    "the Met Office",
    "NHS Digital",
    "the electoral register",
    "the Office for National Statistics",
    "Hospital Episode Statistics",
    "the Customer Information System",
    "the school census",
    "the Individualised Learner Record",
    "the Integrated Data Service",
    "satellite imagery",
    "river gauges",
    "telematics",
    "call recordings",
    "web analytics",
    "complaints logs",
    "user research",
    "open data",
    "the departmental warehouse",
    "management information returns",
    "freedom of information requests",
    "casework notes",
    "sensor readings",
)

CONSTRAINTS = (
    "The privacy impact assessment is already drafted.",
    "The supplier's contract ends next year, so the timing is right.",
    "Union representatives have been briefed and support a pilot.",
    "A service assessment is booked for the end of discovery.",
    "Legal advisers have confirmed the legal gateway.",
    "Accessibility testing with assisted digital users is planned from the start.",
    "The Welsh language version would be built at the same time.",
    "Procurement would use the G-Cloud framework.",
    "The spend control case has been agreed in principle.",
    "The idea came from a hackathon run by the regional teams.",
    "A similar pilot ran in the devolved administrations.",
    "The finance business partner has checked the savings estimate.",
)


def _zipf(names: tuple[str, ...], rng: random.Random) -> str:
    # Weights 1/(rank + 6): the first names a few times as common as the last,
    # none in more than a few per cent of all proposals.
    return rng.choices(names, weights=[1 / (rank + 6) for rank in range(len(names))])[0]


def _reworded(text: str, choices: dict[str, str]) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        core = word.rstrip(".,;:")
        replacement = choices.get(core)
        if replacement is not None:
            words[i] = replacement + word[len(core) :]
    return " ".join(words)


def _variant(idea: Idea, number: int) -> Idea:
    """The idea told in another way, for another organisation, the same each time."""
    rng = random.Random(f"{idea.titles[0]}/{number}")  # noqa: S311 - demo text, not security
    if number == 0:
        return idea
    choices = {word: rng.choice(others) for word, others in SYNONYMS.items() if rng.random() < 0.45}
    homes = [ORGANISATIONS[d] for d in idea.departments if d in ORGANISATIONS]
    organisation = _zipf(rng.choice(homes) if homes else ANY_ORGANISATION, rng)
    system = _zipf(SYSTEMS, rng)
    group = _zipf(GROUPS, rng)
    source = _zipf(SOURCES, rng)
    return Idea(
        departments=idea.departments,
        titles=idea.titles,
        summary=f"{_reworded(idea.summary, choices)} Led by {organisation}.",
        problem=(
            f"{_reworded(idea.problem, choices)} Today the work is done in {system}, and "
            f"{group} are hit hardest."
        ),
        who=f"{_reworded(idea.who, choices)} In particular {group}.",
        solution=(
            f"{_reworded(idea.solution, choices)} It would draw on {source}. "
            f"{rng.choice(CONSTRAINTS)}"
        ),
        benefits=_reworded(idea.benefits, choices),
        themes=idea.themes,
        pilot=idea.pilot,
        believe=idea.believe,
        result_in=idea.result_in,
        metrics=idea.metrics,
        worked=idea.worked,
        failed=idea.failed,
    )


_VARIANTS: dict[Idea, tuple[Idea, ...]] = {}


def variants_of(idea: Idea) -> tuple[Idea, ...]:
    """The idea's VARIANTS_PER_IDEA tellings, the idea itself first (made once)."""
    if idea not in _VARIANTS:
        _VARIANTS[idea] = tuple(_variant(idea, n) for n in range(VARIANTS_PER_IDEA))
    return _VARIANTS[idea]


def ideas_for(department_slug: str) -> tuple[tuple[Idea, ...], tuple[Idea, ...]]:
    """The ideas of a department (its own first), and those any department may have,
    each in all its tellings (`variants_of`)."""
    own = tuple(v for i in IDEAS if department_slug in i.departments for v in variants_of(i))
    anyone = tuple(v for i in IDEAS if not i.departments for v in variants_of(i))
    return own, anyone
