"""The relevance fixture for similar proposals: 60 proposals from 6 departments.

Ten pairs describe the same idea in different words (no pair shares a title word,
see `PAIRS`); the other 40 are near misses on purpose: they share vocabulary with a
pair ("chatbot", "appointments", "fraud") but not its idea. A good similarity
puts each pair's partner in the top 3 when the other is drafted.
"""

from __future__ import annotations

from typing import NamedTuple


class Idea(NamedTuple):
    key: str
    department: str  # slug in shared/data/departments.csv
    title: str
    summary: str
    problem: str


IDEAS: list[Idea] = [
    # --- the ten pairs -----------------------------------------------------------
    Idea(
        "foi-a",
        "hmrc",
        "Pilot a chatbot for freedom of information requests",
        "A chatbot on GOV.UK that helps people find information we already publish "
        "before they make a freedom of information request.",
        "Half of our FOI requests ask for data already in our publication scheme, and "
        "each one takes an officer about three hours to answer.",
    ),
    Idea(
        "foi-b",
        "dwp",
        "Automated assistant answering transparency enquiries",
        "A conversational tool that answers questions from the public by pointing them "
        "to datasets and statistics the department has already released.",
        "Our disclosure team is overwhelmed with requests under the Act for figures that "
        "are already on our statistics pages, so statutory deadlines are missed.",
    ),
    Idea(
        "absence-a",
        "dfe",
        "Predict which pupils may stop attending school",
        "Use attendance registers to spot children whose attendance is starting to "
        "fall, so schools can contact families early.",
        "Persistent absence has doubled since 2019 and by the time a child is flagged "
        "they have already missed weeks of lessons.",
    ),
    Idea(
        "absence-b",
        "dwp",
        "Early warning when children drift away from classrooms",
        "A dashboard for local authorities that highlights learners with a worsening "
        "pattern of missed days, combined with family support data.",
        "Truancy is noticed too late; education welfare officers only hear about a "
        "young person once they are chronically missing from lessons.",
    ),
    Idea(
        "reminders-a",
        "dhsc",
        "Text message reminders before hospital appointments",
        "Send an SMS two days before an outpatient appointment with a link to cancel or rebook it.",
        "Around 8% of outpatient appointments are missed, costing the NHS about a "
        "billion pounds a year, and the slot is wasted.",
    ),
    Idea(
        "reminders-b",
        "hmrc",
        "SMS nudges so taxpayers keep their compliance interviews",
        "Before a scheduled meeting with an officer, the person gets a short mobile "
        "phone message with the date and a way to rearrange.",
        "One in ten booked meetings is a no-show; the officer's time is lost and the "
        "case is delayed by weeks while we book another slot.",
    ),
    Idea(
        "letters-a",
        "dwp",
        "Translate benefit letters into plain English with a language model",
        "Draft a plain English version of each standard benefit letter and test it "
        "with claimants before it replaces the old one.",
        "Claimants phone us because they cannot understand our letters; a third of "
        "calls are about what a letter means.",
    ),
    Idea(
        "letters-b",
        "hmrc",
        "Rewrite official correspondence so it is easier to read",
        "Simplify the wording of the notices we post to customers, checked for "
        "reading age, and measure how many follow-up calls it prevents.",
        "Our notices use legal jargon; customers ring the helpline to ask what they "
        "have been sent, which drives up contact volumes.",
    ),
    Idea(
        "video-a",
        "moj",
        "Video links so prisoners attend court hearings remotely",
        "Equip prisons with secure video rooms so defendants in custody can take part "
        "in short hearings without being transported.",
        "Moving a prisoner to court for a ten-minute hearing costs hundreds of pounds, "
        "needs two officers and often arrives late.",
    ),
    Idea(
        "video-b",
        "home-office",
        "Appear before magistrates from custody over a secure camera",
        "Detainees held in police stations join first appearances through an "
        "encrypted audiovisual connection instead of a van journey.",
        "Escort vans and cell space are tied up for a whole day to bring someone from "
        "a police cell to a courtroom for a few minutes.",
    ),
    Idea(
        "marking-a",
        "dfe",
        "Machine-assisted marking of handwritten essays",
        "Use handwriting recognition and a scoring model to give teachers a first "
        "mark and comments on extended writing, which they then moderate.",
        "Teachers spend evenings marking written answers by hand; workload is the "
        "main reason they give for leaving the profession.",
    ),
    Idea(
        "marking-b",
        "moj",
        "Automatically grade scanned coursework in prison education",
        "Prison learners' paper assignments are scanned and an algorithm proposes a "
        "grade and feedback for the tutor to confirm.",
        "Tutors visit several prisons and assessing piles of paper submissions by hand "
        "delays feedback to learners by weeks.",
    ),
    Idea(
        "fraud-a",
        "hmrc",
        "Detect fraudulent VAT repayment claims with anomaly scores",
        "Score each VAT repayment claim for how unusual it is compared with similar "
        "traders and hold the riskiest for checks.",
        "Organised criminals submit false repayment claims; we find them after the money has gone.",
    ),
    Idea(
        "fraud-b",
        "dwp",
        "Flag suspicious benefit payments using pattern analytics",
        "Analyse claims for unusual combinations of address, bank account and "
        "circumstances, and route outliers to investigators before paying.",
        "Losses to organised benefit fraud run to billions, and most cases are "
        "discovered only after months of payments.",
    ),
    Idea(
        "drones-a",
        "dhsc",
        "Drones to carry blood samples between hospitals",
        "Fly pathology samples between hospital sites by drone instead of taxis and "
        "vans, starting with one trust.",
        "Samples sit in traffic for up to two hours between sites, delaying results "
        "for patients waiting for a diagnosis.",
    ),
    Idea(
        "drones-b",
        "moj",
        "Unmanned aircraft deliver specimens across prison healthcare",
        "Use remotely piloted aircraft to move test specimens from prison health "
        "centres to the laboratory.",
        "Laboratory tests for people in prison wait for a courier run, so clinicians "
        "get results a day later than in the community.",
    ),
    Idea(
        "passes-a",
        "home-office",
        "Replace paper visitor passes with digital badges",
        "Guests register before they arrive and receive a digital pass on their phone "
        "that opens the barriers at reception.",
        "Reception desks queue every morning while paper visitor passes are printed "
        "and signed, and lost passes are a security risk.",
    ),
    Idea(
        "passes-b",
        "moj",
        "Phone-based entry credentials for building guests",
        "People visiting our offices get a mobile credential sent in advance that "
        "lets them through the turnstiles.",
        "Front-of-house staff write temporary cards by hand and nobody knows who is "
        "in the building during an evacuation.",
    ),
    Idea(
        "prefill-a",
        "dwp",
        "Pre-populate applications using existing records",
        "When someone applies for a benefit, fill in the details government already "
        "knows, with their consent, so they only confirm them.",
        "People are asked for the same information by several departments and errors "
        "in re-typed data delay payments.",
    ),
    Idea(
        "prefill-b",
        "hmrc",
        "Stop asking citizens for details we already hold",
        "Reuse what people have told other parts of government, such as address and "
        "income, instead of making them enter it again on our forms.",
        "Customers complain that they repeat the same facts to every department, and "
        "mistakes creep in each time.",
    ),
    # --- near misses: shared words, different ideas -------------------------------
    Idea(
        "n01",
        "home-office",
        "Chatbot to answer staff HR policy questions",
        "An internal assistant that answers questions about leave, pay and policies "
        "from the intranet.",
        "The HR helpdesk spends most of its time answering the same questions.",
    ),
    Idea(
        "n02",
        "dfe",
        "Publish a freedom of information disclosure log",
        "Publish every FOI response online in a searchable log.",
        "Responses are emailed to one requester and nobody else can find them.",
    ),
    Idea(
        "n03",
        "dhsc",
        "Online booking for vaccination appointments",
        "Let people choose a vaccination slot at a pharmacy or clinic online.",
        "Phone lines are busy when campaigns open and people give up.",
    ),
    Idea(
        "n04",
        "dwp",
        "Appointment scheduling app for jobcentre work coaches",
        "Coaches manage their diaries in one shared tool instead of spreadsheets.",
        "Double bookings and lost diary entries waste coaches' time.",
    ),
    Idea(
        "n05",
        "hmrc",
        "Webchat for self assessment customers",
        "Offer live webchat with advisers on the self assessment pages in January.",
        "Phone queues exceed an hour in the weeks before the filing deadline.",
    ),
    Idea(
        "n06",
        "moj",
        "Digital case files for magistrates",
        "Magistrates read case papers on tablets instead of printed bundles.",
        "Printing and couriering bundles costs money and papers go missing.",
    ),
    Idea(
        "n07",
        "home-office",
        "Body-worn cameras for immigration enforcement officers",
        "Officers record encounters to protect both themselves and the public.",
        "Complaints are hard to resolve without an independent record.",
    ),
    Idea(
        "n08",
        "dfe",
        "School meal payments by mobile phone",
        "Parents top up school meal accounts from an app.",
        "Cash handling in school offices takes staff time and is insecure.",
    ),
    Idea(
        "n09",
        "dhsc",
        "Electronic prescriptions for care homes",
        "Care homes order repeat medicines electronically from GPs and pharmacies.",
        "Faxed and paper requests lead to missed or duplicated medicines.",
    ),
    Idea(
        "n10",
        "dwp",
        "Plain language training for contact centre staff",
        "Train call handlers to explain decisions simply on the phone.",
        "Callers often end the call still unsure what happens next.",
    ),
    Idea(
        "n11",
        "hmrc",
        "Machine learning to classify imported goods codes",
        "Suggest the right commodity code for goods from their description.",
        "Wrong tariff codes mean the wrong duty is paid at the border.",
    ),
    Idea(
        "n12",
        "moj",
        "Electronic monitoring tags with location alerts",
        "Alert probation officers when a tagged person enters an exclusion zone.",
        "Breaches are found hours later when the data is reviewed.",
    ),
    Idea(
        "n13",
        "home-office",
        "Faster passport renewals with online photo checks",
        "Check digital passport photos automatically as the applicant uploads them.",
        "A quarter of applications are delayed by photos that fail the rules.",
    ),
    Idea(
        "n14",
        "dfe",
        "Teacher recruitment campaign on social media",
        "Target career changers with adverts about teaching maths and physics.",
        "We miss our recruitment targets for shortage subjects every year.",
    ),
    Idea(
        "n15",
        "dhsc",
        "Remote monitoring of blood pressure at home",
        "Patients send readings from home devices and nurses review them weekly.",
        "Patients travel to the surgery for routine readings that could be taken at home.",
    ),
    Idea(
        "n16",
        "dwp",
        "Pension credit take-up letters for eligible pensioners",
        "Write to pensioners who are likely to be eligible but do not claim.",
        "Hundreds of thousands of pensioners miss out on money they are owed.",
    ),
    Idea(
        "n17",
        "hmrc",
        "Open data on tax receipts by region",
        "Publish monthly tax receipts by region as open data.",
        "Researchers submit repeated requests for the same regional figures.",
    ),
    Idea(
        "n18",
        "moj",
        "Legal aid eligibility checker",
        "An online tool that tells people whether they might get legal aid.",
        "Providers spend time on applications that are bound to fail.",
    ),
    Idea(
        "n19",
        "home-office",
        "Drones for search and rescue by police forces",
        "Police use drones with thermal cameras to find missing people.",
        "Helicopter time is expensive and not always available.",
    ),
    Idea(
        "n20",
        "dfe",
        "Tutoring programme for pupils who fell behind",
        "Small-group tutoring for pupils who lost learning during the pandemic.",
        "Disadvantaged pupils are months behind their peers.",
    ),
    Idea(
        "n21",
        "dhsc",
        "Hospital bed management dashboard",
        "Show every ward's free beds in real time to the patient flow team.",
        "Patients wait in emergency departments while beds sit empty elsewhere.",
    ),
    Idea(
        "n22",
        "dwp",
        "Identity verification through GOV.UK One Login",
        "Claimants prove who they are online once and reuse it.",
        "Face-to-face identity checks delay first payments.",
    ),
    Idea(
        "n23",
        "hmrc",
        "Robotic process automation for repayment processing",
        "Bots move data between systems for routine repayments.",
        "Staff re-key the same data into three systems.",
    ),
    Idea(
        "n24",
        "moj",
        "Court listing optimisation",
        "Schedule hearings to use courtrooms and judges fully.",
        "Courtrooms sit empty while cases wait for a date.",
    ),
    Idea(
        "n25",
        "home-office",
        "Online reporting of non-emergency crime",
        "The public report minor crimes online instead of calling 101.",
        "Non-emergency lines have long waits and callers hang up.",
    ),
    Idea(
        "n26",
        "dfe",
        "Free breakfast clubs in primary schools",
        "Fund breakfast clubs so children start the day fed and on time.",
        "Hungry children struggle to concentrate in morning lessons.",
    ),
    Idea(
        "n27",
        "dhsc",
        "Social prescribing link workers in GP surgeries",
        "Link workers connect patients to community groups and activities.",
        "GPs see patients whose needs are social rather than medical.",
    ),
    Idea(
        "n28",
        "dwp",
        "Work coach caseload balancing",
        "Balance caseloads across jobcentres using live demand data.",
        "Some coaches have twice the caseload of others nearby.",
    ),
    Idea(
        "n29",
        "hmrc",
        "Real-time information on employee pay for tax codes",
        "Use payroll data to update tax codes during the year.",
        "Wrong tax codes cause over- and underpayments that are fixed a year later.",
    ),
    Idea(
        "n30",
        "moj",
        "Victim updates by email and text",
        "Keep victims of crime informed of each step in their case.",
        "Victims say they hear nothing for months after reporting.",
    ),
    Idea(
        "n31",
        "home-office",
        "Biometric residence permit replacement with eVisas",
        "Replace physical permits with an online immigration status.",
        "Lost and expired cards stop people proving their right to work.",
    ),
    Idea(
        "n32",
        "dfe",
        "Shared digital platform for special educational needs plans",
        "One place where families, schools and councils see a child's plan.",
        "Plans are emailed around as documents and versions conflict.",
    ),
    Idea(
        "n33",
        "dhsc",
        "Artificial intelligence to read chest X-rays",
        "A model flags X-rays likely to show cancer for urgent review.",
        "Radiologist shortages mean scans wait weeks to be reported.",
    ),
    Idea(
        "n34",
        "dwp",
        "Accessible formats for letters on request",
        "Offer braille, large print and audio versions of every letter.",
        "Blind and partially sighted claimants cannot read standard letters.",
    ),
    Idea(
        "n35",
        "hmrc",
        "Customs declarations with pre-arrival data",
        "Traders lodge declarations before goods reach the port.",
        "Lorries queue at the border while paperwork is checked.",
    ),
    Idea(
        "n36",
        "moj",
        "Prison library e-books on in-cell tablets",
        "Give prisoners access to e-books and courses on secure tablets.",
        "Library visits are limited by staffing and time out of cell.",
    ),
    Idea(
        "n37",
        "home-office",
        "Visa application status tracker",
        "Applicants check where their visa application is online.",
        "Applicants call and email to ask for progress updates.",
    ),
    Idea(
        "n38",
        "dfe",
        "Attendance data shared daily with the department",
        "Schools share registers automatically each day.",
        "Termly attendance returns are out of date when they arrive.",
    ),
    Idea(
        "n39",
        "dhsc",
        "Patient transport booking online",
        "Patients book non-emergency transport to hospital online.",
        "Phone booking lines are only open in office hours.",
    ),
    Idea(
        "n40",
        "dwp",
        "Universal Credit journal reminders",
        "Remind claimants of to-do items in their online journal.",
        "Claimants miss actions and their payments are sanctioned.",
    ),
]

PAIRS: list[tuple[str, str]] = [
    ("foi-a", "foi-b"),
    ("absence-a", "absence-b"),
    ("reminders-a", "reminders-b"),
    ("letters-a", "letters-b"),
    ("video-a", "video-b"),
    ("marking-a", "marking-b"),
    ("fraud-a", "fraud-b"),
    ("drones-a", "drones-b"),
    ("passes-a", "passes-b"),
    ("prefill-a", "prefill-b"),
]
