"""Words for matching, shared by the full-text index, the query side and the offline answerer, so that
all three agree: normalisation (``text.normalize_for_search``), a light stemmer for English and Arabic
(``الشحن / شحن / للشحن`` are one term; ``shipping / shipped / ships`` too), stopwords (English, Arabic
and common dialect words), and a small bilingual customer-service lexicon: groups of words that mean
the same thing in English, Modern Standard Arabic and dialect (``installments / تقسيط / قسط``). The
lexicon lets a question in one language find and quote a passage in the other without a translation
model; it is deliberately small and generic (shop, clinic and service vocabulary)."""

from __future__ import annotations

import re
from functools import lru_cache

from kalamna.domain.text import normalize_for_search

_WORD = re.compile(r"\w+")
_ARABIC_LETTERS = re.compile(r"[\u0621-\u064a]")

_ENGLISH_STOPWORDS = """
a about above after again against all am an and any are aren as at be because been before being below
between both but by can cannot could couldn did didn do does doesn doing don down during each few for
from further get got had has have having he her here hers herself him himself his how i if in into is
isn it its itself just let me more most my myself no nor not now of off on once only or other ought our
ours ourselves out over own please same shall she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was wasn we were weren
what when where which while who whom why will with won would you your yours yourself yourselves hi
hello hey thanks thank ok okay yes tell know want need like also still much many one really u ur pls
plz there any anything something possible able way long take takes took give gives buy buying bought
come comes see sees work works working make makes go goes use using wat whats wats located find time
colour color kind type
"""
_ARABIC_STOPWORDS = """
من في على إلى الى عن ما ماذا هل كيف متى أين اين لماذا لم لن لا كم هو هي هم هن أنا انا أنت انت أنتم انتم
نحن هذا هذه ذلك تلك هنا هناك التي الذي الذين اللذين اللتين و أو او ثم بل لكن إن ان أن كان كانت يكون
تكون قد مع كل بعد قبل عند عندي عندكم لدي لديكم لديك أي اي ايضا أيضا بين حتى إذا اذا لو يا مرحبا شكرا
يمكن يمكنني ممكن أريد اريد أود اود منكم عنكم لكم لي لنا به بها فيه فيها عليه عليها منه منها له لها
غير سوف كذلك فقط جدا الان الآن ماهو ماهي وش ايش إيش شو هي هو
عايز عاوز عايزه ابغى ابغي ابي أبي بدي ينفع ممكن حاجه حاجة ده دي دا كده كدا ايه إيه امتى إمتى ازاي إزاي
فين وين بالظبط بالضبط طيب لو سمحت بس يعني اللي الي كام قد ليه هل مده يستغرق تستغرق بياخد ياخد
تقع يقع عنده عندها اجيب اجيبه اجيبها
"""

# Groups of words meaning the same thing (English, Arabic, dialect). Each word is stemmed like the
# text it is compared with, so inflected forms need not be listed.
LEXICON: tuple[tuple[str, ...], ...] = (
    ("ship", "shipping", "delivery", "deliver", "arrive", "arrives", "شحن", "توصيل", "يوصل", "يصل"),
    ("return", "returns", "ارجاع", "استرجاع", "ارجع", "رجع"),
    ("refund", "refunds", "استرداد", "استرجاع", "فلوس"),
    ("exchange", "replace", "replacement", "change", "استبدال", "تغيير", "تبديل", "تغير"),
    ("price", "cost", "fee", "fees", "charge", "much", "سعر", "تكلفه", "رسوم", "بكام", "بكم", "تكلف"),
    ("pay", "payment", "دفع", "ادفع", "الدفع"),
    ("installment", "instalment", "monthly", "تقسيط", "قسط", "اقسط", "اقساط", "تقسيطه"),
    ("card", "cards", "بطاقه", "بطاقات", "كارت"),
    ("cash", "نقدا", "نقدي", "كاش", "نقود"),
    ("warranty", "guarantee", "ضمان"),
    ("open", "opening", "hours", "تفتح", "يفتح", "مواعيد", "بتفتح", "تفتحون"),
    ("close", "closing", "تغلق", "يقفل"),
    ("time", "وقت", "موعد", "ميعاد"),
    ("day", "days", "يوم", "ايام", "يوما"),
    ("week", "اسبوع"),
    ("month", "months", "شهر", "شهرا", "اشهر"),
    ("year", "years", "سنه", "سنوات", "عام"),
    ("branch", "branches", "store", "stores", "shop", "فرع", "فروع", "محل", "فروعكم"),
    ("address", "location", "located", "عنوان", "موقع", "مكان", "تقع"),
    ("phone", "mobile", "smartphone", "هاتف", "موبايل", "جوال", "تليفون"),
    ("screen", "display", "شاشه"),
    ("repair", "fix", "اصلاح", "صيانه", "تصليح"),
    ("laptop", "notebook", "لابتوب"),
    ("tv", "television", "تلفزيون", "تليفزيون", "تلفاز"),
    ("install", "installation", "تركيب"),
    ("free", "مجانا", "مجاني", "ببلاش"),
    ("discount", "offer", "خصم", "تخفيض"),
    ("student", "students", "طالب", "طلاب"),
    ("gift", "هدايا", "هديه"),
    ("loyalty", "ولاء"),
    ("point", "points", "نقطه", "نقاط"),
    ("complaint", "complain", "شكوى", "شكاوى", "اشتكي", "اشتكى"),
    ("customer", "customers", "عملاء", "عميل"),
    ("number", "رقم"),
    ("call", "contact", "اتصل", "اكلم", "كلم"),
    ("used", "second-hand", "مستعمل", "مستعمله"),
    ("new", "جديد", "جديده"),
    ("express", "fast", "quick", "سريع"),
    ("order", "طلب", "اوردر"),
    ("deposit", "عربون", "مقدم"),
    ("pre-order", "preorder", "مسبق"),
    ("extend", "extension", "extra", "تمديد", "مد"),
    ("appointment", "موعد", "ميعاد", "معاد"),
    ("book", "booking", "reserve", "حجز", "احجز"),
    ("cancel", "cancellation", "الغاء", "الغي", "لغيت", "الغيت"),
    ("insurance", "insurer", "تامين"),
    ("company", "companies", "corporate", "شركه", "شركات"),
    ("fast", "fasting", "صيام", "صائم"),
    ("hour", "hours", "ساعه", "ساعات"),
    ("blood", "دم"),
    ("test", "tests", "analysis", "lab", "laboratory", "تحليل", "تحاليل", "معمل"),
    ("sugar", "glucose", "سكر"),
    ("water", "ماء", "مياه"),
    ("result", "results", "نتيجه", "نتائج"),
    ("child", "children", "kid", "kids", "pediatric", "pediatrics", "اطفال", "طفل", "ابني"),
    ("age", "old", "عمر", "سن"),
    ("vaccine", "vaccination", "vaccines", "تطعيم", "تطعيمات", "لقاح"),
    ("flu", "influenza", "انفلونزا"),
    ("chickenpox", "جديري"),
    ("dental", "teeth", "tooth", "dentist", "اسنان"),
    ("cleaning", "clean", "تنظيف"),
    ("whitening", "whiten", "تبييض"),
    ("skin", "dermatology", "جلديه", "جلد"),
    ("hair", "شعر"),
    ("parking", "park", "موقف", "جراج", "ركن"),
    ("doctor", "doctors", "physician", "طبيب", "دكتور", "اطباء", "الدكتور"),
    ("visit", "زياره", "يزور", "يزورني"),
    ("home", "house", "منزل", "بيت", "البيت"),
    ("prescription", "روشته", "وصفه"),
    ("report", "reports", "تقرير", "تقارير"),
    ("video", "online", "فيديو"),
    ("consultation", "استشاره", "كشف"),
    ("emergency", "طوارئ"),
    ("ambulance", "اسعاف"),
    ("x-ray", "xray", "scan", "scans", "اشعه"),
    ("mri", "رنين"),
    ("physiotherapy", "physio", "physical", "علاج", "طبيعي"),
    ("session", "sessions", "جلسه", "جلسات"),
    ("package", "bundle", "باقه"),
    ("check-up", "checkup", "فحص", "شامل"),
    ("women", "gynecology", "نساء"),
    ("pregnancy", "حمل"),
    ("wheelchair", "كرسي"),
    ("sick", "مرضيه"),
    ("leave", "اجازه"),
    ("language", "languages", "لغه", "لغات"),
    ("english", "انجليزيه", "انجليزي"),
    ("french", "فرنسيه", "فرنساوي"),
    ("arabic", "عربيه", "عربي"),
    ("ramadan", "رمضان"),
    ("friday", "جمعه"),
    ("cairo", "قاهره"),
    ("alexandria", "اسكندريه"),
    ("kuwait", "كويت"),
    ("saudi", "سعوديه"),
    ("customs", "جمارك"),
    ("invoice", "receipt", "فاتوره", "ايصال"),
    ("tax", "ضريبه", "ضريبي"),
    ("account", "حساب"),
    ("password", "باسورد", "سر"),
    ("privacy", "personal", "خصوصيه", "بيانات"),
    ("bank", "banks", "بنك", "بنوك"),
    ("available", "متاح", "متاحه", "متوفر", "متوفره", "تتوفر", "يتوفر"),
    ("value", "values", "worth", "قيمه", "قيم"),
    ("sell", "sale", "بيع", "نبيع", "تبيعون", "يبيع"),
    ("device", "devices", "اجهزه", "جهاز"),
    ("product", "products", "item", "items", "منتج", "منتجات"),
    ("clinic", "clinics", "عياده", "عيادات"),
    ("patient", "patients", "مريض", "مرضى"),
    ("medical", "طبي", "طبيه"),
    ("claim", "reimburse", "reimbursed", "reimbursement", "تعويض", "مطالبه"),
    ("ten", "10", "عشر", "عشره"),
    ("two", "2", "اثنين", "اتنين"),
    ("three", "3", "ثلاث", "ثلاثه", "تلات"),
    ("year", "years", "سنه", "سنين", "سنوات"),
)


def _stem_english(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # shipp → ship
    return word


_ARTICLE_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")


def _stem_arabic(word: str) -> str:
    for prefix in _ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    if len(word) >= 5 and word.endswith("ات"):
        word = word[:-2]  # sound feminine plural: بطاقات → بطاق, like بطاقة → بطاق
    elif len(word) >= 6 and word.endswith(("ون", "ين")):
        word = word[:-2]
    elif len(word) >= 4 and word.endswith("ه"):
        word = word[:-1]  # ta marbuta (already folded to heh): طبية → طبي
    return word


def stem(word: str) -> str:
    """Light stemming of one normalised word: English suffixes, Arabic articles and plural endings."""
    if word.isdigit():
        return word
    return _stem_arabic(word) if _ARABIC_LETTERS.search(word) else _stem_english(word)


def words(text: str) -> list[str]:
    """The stemmed, normalised words of ``text`` (stopwords kept; single letters dropped)."""
    return [stem(w) for w in _WORD.findall(normalize_for_search(text)) if len(w) > 1 or w.isdigit()]


STOPWORDS = frozenset(words(_ENGLISH_STOPWORDS + " " + _ARABIC_STOPWORDS))


def content_terms(text: str) -> list[str]:
    """The meaningful stemmed terms of ``text`` in order of appearance, without repeats."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))


def search_document(text: str) -> str:
    """What the full-text index stores for a chunk: its stemmed, normalised words."""
    return " ".join(words(text))


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in LEXICON:
        stems = {s for phrase in group for s in words(phrase)}
        for item in stems:
            table.setdefault(item, set()).update(stems)
    return {key: frozenset(value - {key}) for key, value in table.items()}


_CLITICS = "وبلفكتين"  # one-letter prefixes: and, with, for, so, like; present-tense verb prefixes


def variants(term: str) -> frozenset[str]:
    """``term`` and, for an Arabic word with a one-letter prefix, the word without it (``بيوم`` →
    ``يوم``, ``لارجاع`` → ``ارجاع``, ``تشحنون`` → ``شحن``)."""
    if len(term) >= 4 and term[0] in _CLITICS and _ARABIC_LETTERS.match(term):
        return frozenset({term, stem(term[1:])})
    return frozenset({term})


def equivalents(term: str) -> frozenset[str]:
    """Other stemmed words that mean ``term`` (other language or dialect), from the lexicon, with
    the prefix-less variant of an Arabic word."""
    table = _synonyms()
    found: set[str] = set()
    for variant in variants(term):
        found |= table.get(variant, frozenset()) | {variant}
    return frozenset(found - {term})


def is_arabic(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if "\u0600" <= c <= "\u06ff") * 2 >= len(letters)


def guess_language(text: str) -> str:
    """``"ar"`` for text mostly in Arabic script, else ``"en"`` (enough to pick a fallback message)."""
    return "ar" if is_arabic(text) else "en"


# --- Arabizi (Arabic written in Latin letters and digits) -----------------------------------------

_ARABIZI_DIGIT_WORD = re.compile(r"(?i)[235789][a-z]|[aeiou]2\b")
_ARABIZI_MARKERS = frozenset(
    [
        "el",
        "fein",
        "feen",
        "fen",
        "ezay",
        "ezzay",
        "emta",
        "imta",
        "3ayez",
        "3ayza",
        "aayez",
        "kam",
        "bkam",
        "bekam",
        "ana",
        "enta",
        "enty",
        "howa",
        "heya",
        "mesh",
        "msh",
        "mish",
        "fi",
        "fe",
        "lel",
        "bel",
        "wel",
        "ya3ni",
        "keda",
        "leh",
        "eih",
        "eh",
        "ay",
    ]
)
_ARABIZI_WORDS = {
    "el": "ال",
    "al": "ال",
    "fein": "فين",
    "feen": "فين",
    "fen": "فين",
    "kam": "كام",
    "fi": "في",
    "fe": "في",
    "3la": "على",
    "3ala": "على",
    "ana": "انا",
    "eh": "ايه",
    "eih": "ايه",
    "b": "ب",
    "mesh": "مش",
    "msh": "مش",
    "leh": "ليه",
    "ezay": "ازاي",
    "emta": "امتى",
}
_ARABIZI_LETTERS = (
    ("sh", "ش"),
    ("kh", "خ"),
    ("gh", "غ"),
    ("th", "ث"),
    ("dh", "ذ"),
    ("ee", "ي"),
    ("ii", "ي"),
    ("oo", "و"),
    ("ou", "و"),
    ("aa", "ا"),
    ("2", "ق"),
    ("3", "ع"),
    ("5", "خ"),
    ("6", "ط"),
    ("7", "ح"),
    ("8", "غ"),
    ("9", "ص"),
    ("b", "ب"),
    ("t", "ت"),
    ("g", "ج"),
    ("j", "ج"),
    ("h", "ه"),
    ("d", "د"),
    ("r", "ر"),
    ("z", "ز"),
    ("s", "س"),
    ("f", "ف"),
    ("q", "ق"),
    ("k", "ك"),
    ("l", "ل"),
    ("m", "م"),
    ("n", "ن"),
    ("w", "و"),
    ("y", "ي"),
    ("i", "ي"),
    ("u", "و"),
    ("o", "و"),
    ("v", "ف"),
    ("p", "ب"),
    ("c", "ك"),
    ("x", "كس"),
)


def looks_like_arabizi(text: str) -> bool:
    """Latin-script text with Arabizi digits inside words (``ta2seet``, ``3la``) or several Arabizi
    words (``el``, ``fein``, ``kam``)."""
    if not text.isascii():
        return False
    words_ = re.findall(r"[a-z0-9]+", text.lower())
    return bool(_ARABIZI_DIGIT_WORD.search(text)) or sum(w in _ARABIZI_MARKERS for w in words_) >= 2


def _arabizi_word(word: str) -> str:
    if word in _ARABIZI_WORDS:
        return _ARABIZI_WORDS[word]
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] in "ae" and not word.startswith(
            ("ee", "aa"), i
        ):  # short vowels are not written; a final -a is ta marbuta or alef
            if i == 0:
                out.append("ا")
            elif i == len(word) - 1 and word[i] == "a":
                out.append("ه")
            i += 1
            continue
        for latin, arabic in _ARABIZI_LETTERS:
            if word.startswith(latin, i):
                out.append(arabic)
                i += len(latin)
                break
        else:
            i += 1
    return "".join(out)


def arabizi_to_arabic(text: str) -> str:
    """A rule-based Arabic reading of Arabizi, for retrieval and matching only (never shown):
    ``ta8yeer el shasha b kam`` → ``تغيير الششه بكام``. Approximate by nature."""
    words_ = re.findall(r"[a-z0-9]+", text.lower())
    out: list[str] = []
    glue = ""
    for word in words_:
        arabic = _arabizi_word(word)
        if arabic in ("ال", "ب"):
            glue += arabic  # el 3eyada → العياده, b kam → بكام
            continue
        out.append(glue + arabic)
        glue = ""
    return " ".join(out)
