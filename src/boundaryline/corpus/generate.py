"""A seeded generator of extra corpus messages, composed from many independent parts.

Hand-written messages are the bulk of the corpus; this adds variety in register (e-mail, DM, SMS), names,
places and typos around hand-written cores. Each *family* (the situation) becomes one scenario,
``gen-<family>``, so a family lands wholly in train or wholly in test and the held-out score never
rewards memorised templates. ``boundaryline generate-corpus`` writes ``data/raw/generated_synth.jsonl``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from boundaryline.files import write_atomic

FIRST = [
    "Sam",
    "Priya",
    "Tom",
    "Aisha",
    "Diego",
    "Mei",
    "Olu",
    "Hannah",
    "Ravi",
    "Lena",
    "Kofi",
    "Sofia",
    "Jonas",
    "Fatima",
    "Mateo",
    "Yuki",
    "Grace",
    "Omar",
    "Ines",
    "Wei",
    "Chloe",
    "Tariq",
    "Nadia",
    "Ben",
    "Zara",
    "Luis",
    "Anya",
    "Femi",
    "Maya",
    "Arjun",
    "Elif",
    "Noah",
    "Leila",
    "Pavel",
    "Rosa",
    "Kenji",
]
LAST = [
    "Okafor",
    "Schmidt",
    "Nguyen",
    "Patel",
    "García",
    "Kowalski",
    "Haddad",
    "Brown",
    "Tanaka",
    "Silva",
    "Mensah",
    "Rossi",
    "Ahmed",
    "Novak",
    "Lindqvist",
    "Chen",
    "O'Brien",
    "Kaur",
    "Dubois",
    "Ivanova",
]
TITLES = [
    "Senior Recruiter",
    "Engineering Manager",
    "VP Sales",
    "Founder & CEO",
    "Data Analyst",
    "Partner",
    "Product Designer",
    "Account Director",
    "PhD candidate",
    "Head of Talent",
    "Operations Lead",
    "Marketing Manager",
    "Consultant",
    "Associate Professor",
    "Store Manager",
    "Freelance Photographer",
]
COMPANIES = [
    "Northwind",
    "Bluefin Analytics",
    "Harbor & Co",
    "Quillstone",
    "Atlas Logistics",
    "Brightpath",
    "Cedar Health",
    "Lumen Labs",
    "Oakridge Partners",
    "Vantage Retail",
    "Kestrel Media",
    "Tidewater",
]
EVENTS = [
    "the fintech breakfast",
    "last week's product meetup",
    "the Lisbon data summit",
    "the alumni mixer",
    "the women in ops panel",
    "the career fair",
    "the AWS user group",
    "the hospitality expo",
    "the design systems conference",
    "Tuesday's webinar",
    "the supply chain roundtable",
    "the hackathon",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "next week", "this weekend", "tomorrow"]

# family -> (label, hard, cores). Cores are whole sentences; a message uses one or two of them.
FAMILIES: dict[str, tuple[str, bool, list[str]]] = {
    "coffee-request": (
        "professional",
        False,
        [
            "Would you have 20 minutes for a coffee {day} to talk about how you moved into {field}?",
            "I'd value your take on breaking into {field}; happy to work around your calendar.",
            "If you have time for a short call {day}, I'd love to hear how your team approaches hiring.",
            "No pressure at all, but a quick chat about your path into {field} would mean a lot.",
            "Could I buy you a coffee near your office {day}? Fifteen minutes is plenty.",
            "I'm exploring roles in {field} and your name came up twice; would a brief call suit you?",
        ],
    ),
    "single-followup": (
        "professional",
        True,
        [
            "Just floating my note from a few weeks ago back to the top of your inbox, no worries if now isn't a good time.",
            "Following up once on my message about {field}; completely understand if you're swamped.",
            "Circling back on this in case it got buried. If the timing is wrong, I'll leave it with you.",
            "A gentle nudge on my earlier email; happy to wait until things calm down on your side.",
            "I know things get busy, so one last follow-up from me, and thanks either way.",
        ],
    ),
    "team-social": (
        "professional",
        True,
        [
            "The whole team is heading for drinks after the offsite on {day}, partners welcome, first round's on us.",
            "We're doing a team dinner on {day} to celebrate the launch; your whole group is invited.",
            "Join us for drinks with the {company} crew after the panel, about fifteen of us so far.",
            "Client dinner on {day} with both teams, 7pm, I'll send the booking to everyone.",
            "Happy hour for the new hires {day}; bring anyone from your team who'd like to meet them.",
        ],
    ),
    "work-compliment": (
        "professional",
        True,
        [
            "Your talk at {event} was brilliant, especially the part on forecasting errors.",
            "I shared your post on onboarding metrics with my whole team, really sharp thinking.",
            "You were amazing on that panel; the way you handled the pricing question was masterful.",
            "Loved the deck you presented, the churn analysis was the clearest I've seen.",
            "Your paper on scheduling came up in our reading group and everyone was impressed.",
        ],
    ),
    "business-logistics": (
        "professional",
        False,
        [
            "Could you resend the signed SOW? Finance needs it before they release the invoice.",
            "Moving our sync to {day} at 3pm, same link; shout if that clashes.",
            "Attached are the revised figures for Q3; comments by {day} would be great.",
            "The venue confirmed the room for {day}; I've added the dial-in for the remote folks.",
            "Quick one: is PO 4471 still open or should we raise a new one for the extension?",
        ],
    ),
    "referral-and-intro": (
        "professional",
        False,
        [
            "Happy to introduce you to our head of data; shall I send a short email to both of you?",
            "I've passed your CV to the hiring manager for the analyst role and flagged your project work.",
            "You two should meet, {name} runs partnerships at {company} and is looking for exactly your skills.",
            "I'd be glad to refer you; send me the job link and a line on why the role fits you.",
            "The team at {company} is hiring; want me to put you in touch with their recruiter?",
        ],
    ),
    "polite-decline": (
        "professional",
        False,
        [
            "I'm afraid I can't take on a mentee this quarter, but the alumni programme is excellent.",
            "Thanks for thinking of me; I'll pass on this one, but good luck with the launch.",
            "I don't have capacity for calls this month; could you send your questions by email instead?",
            "We've decided to go with another candidate, but I'd be glad to keep your details on file.",
        ],
    ),
    "recruiter-cadence": (
        "professional",
        True,
        [
            "As agreed, here's my monthly round-up of roles; reply 'stop' anytime and I'll take you off the list.",
            "Checking in as you asked me to in the spring: two senior {field} roles opened this week.",
            "No action needed, just keeping you posted on the market as promised in our last call.",
            "You mentioned you'd be open again after your project ends; happy to reconnect whenever suits.",
        ],
    ),
    "repeat-followup": (
        "pestering",
        False,
        [
            "This is my fourth email and I still haven't heard back from you.",
            "Bumping this again since my last three messages went unanswered.",
            "I've followed up every few days for two weeks now and still nothing.",
            "Not sure why you keep ignoring my emails, this is the fifth one.",
            "Following up yet again. Did you see any of my previous messages?",
            "Another reminder, since I've now written to you six times about this.",
        ],
    ),
    "after-not-now": (
        "pestering",
        True,
        [
            "I know you said you'd get back to me, but it's been two days so I'm asking again.",
            "You mentioned you were busy until the end of the month, but surely you have ten minutes {day}?",
            "I understand you said not now, but I really need that meeting this week.",
            "You told me to check back in March, but I thought I'd try again today just in case.",
            "Sorry to ask again so soon after you said you'd be in touch, but when exactly will that be?",
        ],
    ),
    "channel-escalation": (
        "pestering",
        False,
        [
            "I emailed, messaged you on LinkedIn and left a voicemail, so I'm texting you now.",
            "Since you're not answering email I called your office and spoke to your assistant.",
            "I found your personal number through a friend, hope you don't mind me texting you here.",
            "I've tried you on every channel I can find, I'll try your work phone next.",
            "No reply on LinkedIn or email, so I messaged your colleague to pass this on.",
        ],
    ),
    "guilt-trip": (
        "pestering",
        True,
        [
            "I guess helping people starting out isn't a priority for you anymore.",
            "It's disappointing that someone in your position can't spare five minutes for a newcomer.",
            "I'd have thought you of all people would remember what it was like to be ignored.",
            "I've been patient, but honestly your silence says a lot about you.",
            "Everyone told me you were generous with your time. I guess not with me.",
        ],
    ),
    "turn-up": (
        "pestering",
        False,
        [
            "I'll be at your talk at {event} so we can finally talk about that meeting.",
            "I waited outside the conference room after your session to ask you again.",
            "I stopped by your office today but reception said you were out, I'll come back {day}.",
            "Saw you at {event} and followed you to the coffee line to ask about the referral again.",
            "I'll wait in your building's lobby {day} morning, it's the only way to get five minutes with you.",
        ],
    ),
    "demand-referral": (
        "pestering",
        True,
        [
            "You need to refer me for this role, I've waited long enough.",
            "I expect you to put my name forward, after all the time I've spent following up.",
            "Just send my CV to your hiring manager, it's the least you can do.",
            "I don't want advice, I want the referral, so please just do it today.",
            "You said no to the referral but I'm asking again because I deserve this job.",
        ],
    ),
    "weekly-checkins": (
        "pestering",
        False,
        [
            "I'll keep checking in every Monday until we get something on the calendar.",
            "Expect a message from me every week until you say yes.",
            "I'm setting a reminder to email you daily until you reply.",
            "I'll keep trying every few days, I don't give up easily.",
            "Same time next week then, and the week after, until we talk.",
        ],
    ),
    "date-ask": (
        "inappropriate_proposition",
        False,
        [
            "Forget the coffee chat, let me take you out on a proper date {day}.",
            "Would you like to go out with me sometime? Not as colleagues, as a date.",
            "Are you single? I've wanted to ask since {event}.",
            "I'd love to take you to dinner, just the two of us, somewhere romantic.",
            "Be honest, would you go on a date with me if we didn't work in the same field?",
        ],
    ),
    "quid-pro-quo": (
        "inappropriate_proposition",
        False,
        [
            "I can put in a good word for the role if you have dinner with me first.",
            "The introduction to our CEO is yours if you come out with me {day} night.",
            "Spend an evening with me and I'll make sure your application gets seen.",
            "Let's trade: I refer you, you give me a date. Seems fair?",
            "I'll sign off on the contract after we've had a proper night out, just us.",
        ],
    ),
    "looks-remark": (
        "inappropriate_proposition",
        True,
        [
            "You looked stunning on stage at {event}, I couldn't take my eyes off you.",
            "You're even prettier than your profile photo, if you don't mind me saying.",
            "That dress at the mixer was something else.",
            "Great presentation, and honestly you looked gorgeous doing it.",
            "Hard to focus on your slides when you look that good.",
        ],
    ),
    "private-drinks": (
        "inappropriate_proposition",
        True,
        [
            "Let's skip the group thing and grab drinks, just the two of us, no work talk.",
            "Drinks {day}? Just you and me, somewhere quieter than the conference bar.",
            "Come for a nightcap after the team dinner, only us, it'll be more relaxed.",
            "I'd rather talk about your career somewhere private over wine, just us.",
            "How about a drink somewhere cosy {day}, leave your colleagues out of it?",
        ],
    ),
    "hotel-or-home": (
        "inappropriate_proposition",
        False,
        [
            "Let's go over your portfolio in my hotel room after the gala, it's more private.",
            "Come by my apartment {day} evening and we can talk about the role properly.",
            "My room has a minibar, easier than finding a table downstairs.",
            "Swing by my place after work, I'll cook and we can discuss your promotion.",
            "We can meet at my hotel at 11pm, nobody will interrupt us there.",
        ],
    ),
    "late-night": (
        "inappropriate_proposition",
        True,
        [
            "You up? Can't stop thinking about you since the interview.",
            "Sorry it's late, I just keep thinking about our conversation... and your smile.",
            "Can't sleep. Wish you were here.",
            "Thinking of you tonight. Is that weird to say to a mentee?",
            "Been replaying our meeting all evening, you're hard to forget.",
        ],
    ),
    "pressure-after-no": (
        "inappropriate_proposition",
        True,
        [
            "I know you said no, but give me one chance, one drink, you won't regret it.",
            "You turned me down but I'm not giving up on us that easily.",
            "Come on, after everything I've done for your career you owe me one dinner.",
            "You said you're not interested, but I think you just need to get to know me.",
            "I'll stop asking when you say yes to one date.",
        ],
    ),
    "thank-you": (
        "professional",
        False,
        [
            "Thank you for the advice last week; I rewrote my portfolio around two end-to-end projects as you suggested.",
            "Just wanted to say thanks for the introduction, {name} and I have a call booked for {day}.",
            "I got the offer! Your tips on the case interview made all the difference.",
            "Thanks for hosting us at {company}, the tour of the warehouse was eye-opening.",
            "Really appreciated you taking the time to review my application, no reply needed.",
        ],
    ),
    "event-invite": (
        "professional",
        True,
        [
            "We'd love you to speak at {event} in the spring; travel and a hotel are covered for speakers.",
            "You're invited to our quarterly breakfast for {field} leaders, {day} at 8am, about thirty people.",
            "Would you join our panel on hiring in {field}? Totally fine to say no.",
            "Our alumni mixer is {day} evening at the student union, bring a colleague if you like.",
            "Join us for the launch party {day}; drinks and canapés, the whole {company} team will be there.",
        ],
    ),
    "interview-logistics": (
        "professional",
        False,
        [
            "Could you do a 45-minute technical interview {day} at 10am or 2pm?",
            "Thanks for interviewing with us; we'll have a decision by {day} either way.",
            "Your onsite is confirmed for {day}; please bring ID for reception and ask for {name}.",
            "We've put together an offer and I'd love to walk you through it on a call {day}.",
            "Unfortunately we won't be moving forward, but the panel was impressed by your case study.",
        ],
    ),
    "recruiter-ignores-no": (
        "pestering",
        True,
        [
            "I know you told me you're not looking, but this role is perfect, so I'm reaching out again.",
            "You unsubscribed from my emails, so I'm trying you here instead.",
            "I've sent this role to you three times now; just give me ten minutes on the phone.",
            "Even if you're happy where you are, I'll keep sending you roles every week until something sticks.",
            "You declined last month, but I'm sure you'll change your mind if we just talk.",
        ],
    ),
    "mentor-gets-personal": (
        "inappropriate_proposition",
        True,
        [
            "Our mentoring sessions are the highlight of my week, and not because of the career talk.",
            "Let's do our next session over dinner at my place, it's more relaxed than the office.",
            "I feel like we have a real connection beyond mentoring, don't you?",
            "Maybe next time we skip the career chat and just enjoy a bottle of wine together.",
            "You can tell me anything, I'd like to be more than just your mentor.",
        ],
    ),
    "declined-offer-date": (
        "inappropriate_proposition",
        False,
        [
            "Now that you've turned down the job, there's nothing stopping me from asking you out.",
            "Since you won't be working for me after all, how about dinner as a date?",
            "Sorry we couldn't make the offer work, but I'd still love to see you, socially this time.",
            "You're not a candidate anymore, so can I take you for drinks, just the two of us?",
            "Shame about the role. I've been wanting to ask you out since the first interview.",
        ],
    ),
}
FIELDS = [
    "data science",
    "product management",
    "supply chain",
    "UX research",
    "fintech",
    "hospitality management",
    "clinical research",
    "B2B sales",
    "venture capital",
    "cybersecurity",
    "urban planning",
    "publishing",
]
OPENERS = [
    "Great to meet you at {event}.",
    "We met briefly at {event}.",
    "{name} suggested I reach out.",
    "Hope your week is going well.",
    "Thanks again for your time the other day.",
    "",
    "",
    "",
    "I'm a {title} at {company}.",
    "Long time no speak!",
    "Hope the move to {company} is going well.",
]
# Neutral background sentences, used in every class alike, so that length and padding say nothing
# about the label.
BACKGROUND = [
    "I've spent the last six years in {field}, most recently leading a small team at {company}.",
    "We're a team of about forty people, split between London and Lisbon, and we've doubled in size this year.",
    "For context, I moved from a consulting background into {field} about two years ago.",
    "I'm currently finishing a part-time master's degree alongside my job, so my evenings are a bit unpredictable.",
    "Our quarter has been busy: two product launches, a new office and a reorganisation of the sales team.",
    "I read your recent interview in the trade press and shared it with a few colleagues.",
    "I'll be travelling for most of {day}, but I check messages in the evenings.",
    "Our company, {company}, works mostly with mid-sized retailers and logistics firms across Europe.",
    "I was at {event} with a couple of colleagues from {company}, and the sessions on hiring were the highlight.",
    "A bit about me: I started as an analyst, moved into operations, and now run a team of eight.",
    "Things at {company} have been hectic since the merger, so apologies if I've been slow on my side too.",
    "I've attached a short summary of my background in case it's useful.",
]
CLOSERS = ["Thanks,", "Best,", "Cheers,", "Kind regards,", "Talk soon,", "Warmly,", "Many thanks,", "Regards,", ""]
EMOJI = ["🙂", "😊", "🙏", "😉", "👍", ""]
TYPOS = {
    "the": "teh",
    "you": "u",
    "your": "ur",
    "really": "realy",
    "tomorrow": "tmrw",
    "because": "bc",
    "please": "pls",
    "thanks": "thx",
    "meeting": "meeitng",
    "would": "woudl",
}


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        day=rng.choice(DAYS),
        event=rng.choice(EVENTS),
        field=rng.choice(FIELDS),
        company=rng.choice(COMPANIES),
        name=rng.choice(FIRST),
        title=rng.choice(TITLES),
    )


def _texting(text: str, rng: random.Random) -> str:
    """SMS/DM register: lower case, dropped full stops, text-speak and the odd typo."""
    words = []
    for word in text.lower().replace(".", "").split():
        words.append(TYPOS.get(word, word) if rng.random() < 0.35 else word)
    return " ".join(words) + (" " + rng.choice(EMOJI) if rng.random() < 0.4 else "")


def compose(family: str, rng: random.Random) -> dict[str, object]:
    """One message of ``family``: greeting, optional opener, one or two cores, sign-off, by channel."""
    label, hard, cores = FAMILIES[family]
    channel = rng.choice(["email", "email", "linkedin_dm", "text_message", "event_app", "chat"])
    recipient, sender = rng.choice(FIRST), f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    body = " ".join(_fill(core, rng) for core in rng.sample(cores, k=rng.choice([1, 1, 2])))
    opener = _fill(rng.choice(OPENERS), rng)
    if channel == "email":
        greeting = rng.choice(["Hi {r},", "Hello {r},", "Dear {r},", "{r},", "Hey {r},"]).format(r=recipient)
        signature = f"{rng.choice(CLOSERS)}\n{sender}\n{rng.choice(TITLES)}, {rng.choice(COMPANIES)}".strip()
        if rng.random() < 0.4:  # a longer e-mail: background before the point of the message
            opener = " ".join([opener, *(_fill(b, rng) for b in rng.sample(BACKGROUND, k=rng.choice([2, 3, 4])))])
        text = "\n\n".join(part for part in (greeting, opener, body, signature) if part)
    elif channel == "text_message" or rng.random() < 0.5:
        text = _texting(
            " ".join(part for part in (rng.choice(["hey", "hi", "hey " + recipient, ""]), body) if part), rng
        )
    else:
        text = " ".join(part for part in (f"Hi {recipient}!", opener, body, sender.split()[0]) if part)
    return {
        "text": text,
        "label": label,
        "channel": channel,
        "scenario": f"gen-{family}",
        "hard": hard,
        "sender_role": "generated",
    }


def generate(per_family: int = 24, seed: int = 42) -> list[dict[str, object]]:
    """``per_family`` distinct messages for each family, reproducible from ``seed``."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for family in FAMILIES:
        seen: set[str] = set()
        attempts = 0
        while len(seen) < per_family and attempts < per_family * 50:
            attempts += 1
            row = compose(family, rng)
            if row["text"] not in seen:
                seen.add(str(row["text"]))
                rows.append(row)
    return rows


def write_generated(path: Path, per_family: int = 24, seed: int = 42) -> int:
    rows = generate(per_family, seed)
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return len(rows)
