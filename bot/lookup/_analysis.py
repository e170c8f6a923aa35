"""Words as the engine compares them: stems, stop words, number words, question shapes and the
few synonyms students use for the guide's own words."""

from __future__ import annotations

import functools
import re

from bot.text import fold

_STOPWORDS = frozenset(
    """
    a about after all also an and any are as at be been being by can could did do does during
    for from had has have how i in into is it its me more most much my of on or our over s
    should so tell than that the their them then there these they this those to up us was we
    were what when where which while who whom whose why will with would you your
    explain define definition meaning mean means happened happen please show give such called
    having some ever
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
# Words that open a question; a query that starts with one is read as a question, not a name.
_QUESTION_WORDS = frozenset(
    """
    what who whom whose which when where why how did does do is are was were can could
    should would will has have had
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_LEADING = re.compile(
    r"^(?:(?:what|who|where|which) (?:is|are|was|were)(?: the| an| a)?|define|definition of|"
    r"meaning of|tell me about|explain|the|an|a) "
)
_BRITISH = re.compile(r"is(e|es|ed|ing|ation|ations)$")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ions", "ion", "ies", "es",
             "ed", "s", "e")  # fmt: skip
_UNDOUBLE = frozenset({"ing", "ings", "ed"})
_NUMBERS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "hundred": "100", "first": "1st", "second": "2nd", "third": "3rd",
}  # fmt: skip
# Irregular forms, and word families the suffix stripper leaves apart.
_IRREGULAR = {
    "paid": "pay", "led": "lead", "made": "make", "took": "take", "taken": "take",
    "held": "hold", "sent": "send", "kept": "keep", "won": "win", "lost": "lose",
    "fought": "fight", "began": "begin", "begun": "begin", "went": "go", "gone": "go",
    "came": "come", "gave": "give", "given": "give", "chose": "choose", "chosen": "choose",
    "fell": "fall", "grew": "grow", "grown": "grow", "drew": "draw", "drawn": "draw",
    "drove": "drive", "driven": "drive", "met": "meet", "left": "leave", "ran": "run",
    "brought": "bring", "bought": "buy", "caught": "catch", "taught": "teach", "told": "tell",
    "wrote": "write", "written": "write", "spoke": "speak", "spoken": "speak", "saw": "see",
    "seen": "see", "broke": "break", "broken": "break", "stood": "stand", "chaired": "chair",
    "succession": "successor", "successors": "successor",
}  # fmt: skip
# A country's adjective finds the country: "the bosnian war" is about Bosnia.
_DEMONYMS = {
    "afghan": "afghanistan", "bosnian": "bosnia", "cambodian": "cambodia", "congolese": "congo",
    "croatian": "croatia", "cypriot": "cyprus", "egyptian": "egypt", "ethiopian": "ethiopia",
    "gambian": "gambia", "haitian": "haiti", "iraqi": "iraq", "israeli": "israel",
    "ivorian": "ivoire", "kenyan": "kenya", "korean": "korea", "kosovar": "kosovo",
    "kuwaiti": "kuwait", "lebanese": "lebanon", "liberian": "liberia", "libyan": "libya",
    "malian": "mali", "namibian": "namibia", "nigerian": "nigeria", "rwandan": "rwanda",
    "serbian": "serbia", "somali": "somalia", "sudanese": "sudan", "syrian": "syria",
    "timorese": "timor", "ugandan": "uganda",
}  # fmt: skip
_IRREGULAR.update(_DEMONYMS)
_FAMILIES = {"defens": "defend", "interven": "intervent", "decis": "decid", "succ": "succeed",
             "successor": "succeed", "settlement": "settl", "permiss": "permit"}  # fmt: skip
QUESTION_WORDS_MIN = 4  # a query of this many content words is a description, not a name

# Groups of words a student uses interchangeably with the guide's own wording. A query word
# also looks for the other words of its groups, at a lower weight than for itself.
_SYNONYMS = """
treaty charter accord agreement pact convention protocol deal settlement
found establish create set launch form
begin start launch open
end finish close conclude withdraw leave terminate
leader commander head chief
command commander lead control
pay reimburse fund finance cost budget contribution
grow enlarge expand increase rise multiply
shrink reduce drawdown
before predecessor precede earlier prior succeed
successor follow succeed replace later take
stop prevent avert halt
ban prohibit outlaw forbid bar
allow authorize permit permission let empower
approve authorize endorse adopt
law legal legality lawful
illegal unlawful
goal aim objective purpose achieve
future coming ahead outlook trend
success work achieve
failure fail collapse
govern administer administration run rule manage
standby reserve
job task role duty function
die death kill fatality dead
country state nation
army troop force military soldier
weapon arm
war conflict fighting
rebel insurgent junta
civilian people population
attack assault aggression
protect shield defend defence
help assist support aid
monitor observe watch supervise
observer monitor
truce ceasefire armistice
vote ballot
block veto
member ally
alliance pact bloc coalition
agency body organ organisation
review report panel
guidance guideline doctrine rule
lesson practice
problem challenge difficulty obstacle hard
example case
history origin development
legitimacy legal
disarm disarmament
sheltered shelter refuge
route corridor
plane aircraft airspace air
drone uav unmanned
hostage seize
election vote
exile flee
pledge commitment promise
clause article provision
binding bind oblige
jointly joint hybrid
honour commemorate celebrate mark remember observe
no never none
temporary provisional interim
cooperate coordinate collaborate together
main core key principal primary
""".strip().splitlines()


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: `protecting`, `protection`, `protects` -> `protect`."""
    if word[-1:].isdigit():
        return word  # a year, a resolution number or a code ("unscr1325"): no suffix to strip
    word = _NUMBERS.get(word) or _IRREGULAR.get(word) or word
    word = _BRITISH.sub(r"iz\1", word).replace("fence", "fense")
    if len(word) > 4:
        if word.endswith("ies"):
            return word[:-3] + "y"  # "countries" = "country"
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                if suffix == "s" and word.endswith("ss"):
                    break  # "success", "class"
                word = word[: -len(suffix)]
                if suffix in _UNDOUBLE and word[-1] == word[-2] and word[-1] not in "lsz":
                    word = word[:-1]  # "stopping" -> "stop", as "stops"; "falling" stays "fall"
                break
        if word.endswith("e") and len(word) > 4:
            word = word[:-1]  # "settlement" -> "settle" -> "settl", as "settling"
        if word.endswith("at") and len(word) > 5:
            word = word[:-2]  # "coordinated" -> "coordin", as "coordination"
    return _FAMILIES.get(word, word)


class _StemTable(dict[str, str]):
    """word -> its stem ("" for a stop word), filled on first sight. Building a 100k-entry
    library stems each distinct word once instead of each of its three million occurrences,
    and a look-up through `map` costs no Python call. Cleared when it grows past `LIMIT`, so
    what users type cannot grow it without end."""

    LIMIT = 1 << 18  # (a 100k-entry library has about 150k distinct words)

    def __missing__(self, word: str) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        # A number or a code is its own stem (a third of the words of a large library).
        value = self[word] = (
            word if word[-1:].isdigit() else "" if word in _STOPWORDS else stem(word)
        )
        return value


STEMS = _StemTable()


def keywords(text: str) -> list[str]:
    """Stemmed content words of already-normalised text."""
    return [s for s in map(STEMS.__getitem__, text.split()) if s]


WORD = re.compile(r"[^\W_]+")
_SPACE_OUT = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})


def tokens(text: str) -> list[str]:
    """The words of raw text, folded: runs of letters and digits. ASCII text (nearly all of
    it) is split by C string methods, which is three times faster than the expression."""
    if text.isascii():
        return text.lower().translate(_SPACE_OUT).split()
    return WORD.findall(fold(text))


def text_keywords(text: str) -> list[str]:
    """Stemmed content words of raw text: `keywords(normalise(text))` without the name-only
    rules (joined initials, Roman numerals, legal shorthands), fast enough for a 100k-entry
    library's full text."""
    return [s for s in map(STEMS.__getitem__, tokens(text)) if s]


def strip_question(key: str) -> str:
    """`what is the mandate` -> `mandate`: the name inside a "what is" question."""
    for _ in range(2):  # "what is the ..." needs two passes
        stripped = _LEADING.sub("", key).strip()
        if stripped == key or not stripped:
            break
        key = stripped
    return key


def looks_like_question(key: str) -> bool:
    """A question or a description (`why did ...`, five content words) rather than a name."""
    first = key.partition(" ")[0]
    return first in _QUESTION_WORDS or len(keywords(key)) >= QUESTION_WORDS_MIN


def _synonym_table() -> dict[str, tuple[str, ...]]:
    related: dict[str, set[str]] = {}
    for line in _SYNONYMS:
        group = {stem(word) for word in line.split()}
        for word in group:
            related.setdefault(word, set()).update(group - {word})
    return {word: tuple(sorted(others)) for word, others in related.items()}


SYNONYMS = _synonym_table()
