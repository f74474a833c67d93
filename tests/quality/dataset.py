"""A small retrieval test set: two knowledge bases (an English electronics shop, an Arabic clinic),
questions written as customers would ask them, sharing as few words as possible with their answers,
questions that the knowledge base cannot answer, and cross-lingual questions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    text: str
    answer: str | None  # the key of the entry that answers it; None: nothing in the KB does


SHOP_EN: dict[str, tuple[str, str]] = {
    "returns": (
        "Returns",
        "Unopened products can be sent back within 30 days of purchase for a full refund. "
        "Opened items are exchanged only when they are faulty.",
    ),
    "delivery": (
        "Shipping",
        "Standard shipping takes three to five working days. Express shipping arrives the next "
        "business day for an extra charge.",
    ),
    "payment": (
        "Payment methods",
        "We accept Visa, Mastercard, Apple Pay and cash on delivery. Instalment plans are available "
        "for orders above 2,000 EGP.",
    ),
    "warranty": (
        "Warranty",
        "All laptops and phones include a two-year manufacturer guarantee covering defects, but not "
        "accidental damage such as cracked glass or water.",
    ),
    "hours": (
        "Branches",
        "Our branches open at 10 am and close at 11 pm every day, except Friday when they open after "
        "the noon prayer.",
    ),
    "tracking": (
        "Order status",
        "As soon as your order leaves the warehouse we text you a link to follow the courier live on a map.",
    ),
    "password": (
        "Sign-in help",
        "If you have lost the password of your profile, the reset link on the login page emails you "
        "a fresh one within minutes.",
    ),
    "trade_in": (
        "Trade-in",
        "Bring your old device to any branch: we value it on the spot and deduct that amount from the "
        "price of a new one.",
    ),
    "repairs": (
        "Service centre",
        "Our technicians fix devices in about a week. Drop them off at any branch and collect them "
        "there when we call you.",
    ),
}

SHOP_EN_QUESTIONS = [
    Question("I changed my mind about something I bought last week, can I get my money back?", "returns"),
    Question("How long until my parcel shows up?", "delivery"),
    Question("Can I split the cost into monthly payments?", "payment"),
    Question("My screen broke when I dropped my mobile, is that covered?", "warranty"),
    Question("What time do your shops start serving customers?", "hours"),
    Question("Where is my package right now?", "tracking"),
    Question("I can't get into my account anymore.", "password"),
    Question("Can I swap my current handset for credit towards an upgrade?", "trade_in"),
    Question("How long does it take to get a broken laptop mended?", "repairs"),
    Question("Do you take Amex or only debit cards?", "payment"),
]

SHOP_EN_UNANSWERABLE = [
    Question("Do you offer piano lessons for children?", None),
    Question("Can I book a table for dinner tonight?", None),
    Question("How do I renew my passport?", None),
    Question("Is the swimming pool heated in winter?", None),
    Question("What vaccinations does my dog need?", None),
]

CLINIC_AR: dict[str, tuple[str, str]] = {
    "booking": (
        "المواعيد",
        "يمكن حجز موعد عبر الهاتف أو من خلال تطبيق العيادة قبل يوم واحد على الأقل.",
    ),
    "hours": (
        "ساعات العمل",
        "تعمل العيادة من الساعة الثامنة صباحاً حتى العاشرة مساءً طوال أيام الأسبوع ما عدا الجمعة.",
    ),
    "insurance": (
        "التأمين",
        "نقبل معظم شركات التأمين الصحي، ويجب إحضار بطاقة التأمين سارية المفعول عند كل زيارة.",
    ),
    "prices": (
        "الأسعار",
        "سعر الكشف العام مئتا جنيه، وكشف الأخصائي ثلاثمئة وخمسون جنيهاً.",
    ),
    "lab": (
        "المختبر",
        "تظهر نتائج التحاليل خلال ثمانٍ وأربعين ساعة وتُرسل إليك برسالة نصية.",
    ),
    "cancel": (
        "تعديل الحجز",
        "لإلغاء الحجز أو تغييره يرجى إبلاغنا قبل موعدك بست ساعات على الأقل.",
    ),
    "parking": (
        "الموقف",
        "يوجد موقف سيارات مجاني أسفل المبنى للمرضى والزوار.",
    ),
    "vaccines": (
        "التطعيمات",
        "نوفر تطعيمات الأطفال وفق الجدول الوطني دون الحاجة إلى حجز مسبق صباح كل سبت.",
    ),
    "emergency": (
        "الطوارئ",
        "في الحالات الطارئة توجه فوراً إلى قسم الطوارئ المفتوح على مدار الساعة.",
    ),
}

CLINIC_AR_QUESTIONS = [
    Question("كيف أرتب زيارة للطبيب؟", "booking"),
    Question("متى تفتحون أبوابكم؟", "hours"),
    Question("هل تغطي بوليصتي الطبية تكاليف العلاج عندكم؟", "insurance"),
    Question("بكم الفحص عند الدكتور المتخصص؟", "prices"),
    Question("متى أستلم تقرير فحص الدم؟", "lab"),
    Question("لن أستطيع الحضور غداً، ماذا أفعل؟", "cancel"),
    Question("أين أترك عربتي عند القدوم؟", "parking"),
    Question("هل يمكن تلقيح ابني الرضيع عندكم؟", "vaccines"),
    Question("ابني يعاني من ألم شديد في منتصف الليل، أين أذهب؟", "emergency"),
]

CLINIC_AR_UNANSWERABLE = [
    Question("هل تبيعون هواتف محمولة؟", None),
    Question("ما هي عاصمة اليابان؟", None),
    Question("أريد حجز تذكرة طيران إلى دبي", None),
    Question("هل لديكم وصفات لطبخ الأرز؟", None),
]

# Asked in the other language than the knowledge base they target.
CROSS_TO_AR = [  # English questions, Arabic clinic
    Question("Is there free parking for patients?", "parking"),
    Question("Do you accept health insurance?", "insurance"),
    Question("When will my blood test results be ready?", "lab"),
]
CROSS_TO_EN = [  # Arabic questions, English shop
    Question("هل يمكنني إرجاع المنتج واسترداد أموالي؟", "returns"),
    Question("كم يستغرق توصيل الطلب؟", "delivery"),
    Question("هل يشمل الضمان كسر الشاشة؟", "warranty"),
]
