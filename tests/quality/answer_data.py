"""The answer-quality benchmark's data: two mixed-language knowledge bases (an electronics shop and a
clinic), about 30 entries each — English-only, Arabic-only and bilingual entries, near-duplicate
topics, some uploaded as HTML (with page furniture), DOCX and PDF (one Arabic) — and the questions a
customer would ask, by category. ``fact``: any of these strings (compared after search
normalisation) in the reply means the reply carries the needed fact."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    body: str  # paragraphs separated by blank lines; "# " starts a heading
    kind: str = "text"  # text | html | docx | pdf


@dataclass(frozen=True)
class Q:
    text: str
    answer: str | None  # the entry that answers it; None: nothing in the knowledge base does
    fact: tuple[str, ...] = ()
    category: str = ""
    previous: str | None = None  # follow-ups: the customer's previous message


SHOP: list[Entry] = [
    Entry(
        "returns",
        "Returns and refunds",
        "Unopened products can be returned within 14 days of delivery for a full refund. "
        "Refunds go back to the original payment method within 5 to 7 working days. "
        "Opened products can only be returned if they are faulty.",
    ),
    Entry(
        "exchange",
        "Exchanging a faulty product",
        "If a product stops working in the first 30 days, we replace it with a new unit free of charge. "
        "Bring the product, its box and the invoice to any branch.",
    ),
    Entry(
        "ship_local",
        "Delivery inside Egypt",
        "Orders inside Cairo and Giza arrive within 2 working days. Other governorates take 3 to 5 "
        "working days. Delivery is free for orders above 1,000 EGP; otherwise it costs 60 EGP.",
    ),
    Entry(
        "ship_intl",
        "International shipping",
        "We ship to Saudi Arabia, the UAE and Kuwait only. International delivery takes 7 to 10 "
        "working days and customs duties are paid by the customer.",
    ),
    Entry(
        "payment",
        "Payment methods",
        "We accept Visa, Mastercard, Meeza cards, Fawry and Apple Pay. Cash on delivery is available "
        "for orders under 10,000 EGP.",
    ),
    Entry(
        "installments",
        "التقسيط",
        "يمكن تقسيط المشتريات التي تزيد قيمتها عن 3000 جنيه على 6 أو 12 شهرا بدون فوائد مع بطاقات "
        "البنك الأهلي وبنك مصر. يتم اختيار خطة التقسيط في صفحة الدفع.",
    ),
    Entry(
        "warranty_devices",
        "Warranty on laptops and phones",
        "Laptops and phones come with a 2-year warranty that covers manufacturing defects. Accidental "
        "damage such as cracked screens or water damage is not covered.",
    ),
    Entry(
        "warranty_accessories",
        "Warranty on accessories",
        "Chargers, cables, headphones and cases have a 6-month warranty. Keep the receipt: it is needed "
        "for any claim.",
    ),
    Entry(
        "hours",
        "Store opening hours",
        "Our stores are open from 10 am to 11 pm, Saturday to Thursday. On Fridays we open at 2 pm.",
    ),
    Entry(
        "ramadan",
        "مواعيد رمضان",
        "خلال شهر رمضان تفتح الفروع من الساعة 1 ظهرا حتى 5 مساء، ثم من 9 مساء حتى 2 صباحا.",
    ),
    Entry(
        "branches",
        "Our branches / فروعنا",
        "We have three branches: City Stars Mall in Nasr City, Mall of Arabia in 6th of October, and "
        "San Stefano Mall in Alexandria.\n\n"
        "لدينا ثلاثة فروع: سيتي ستارز في مدينة نصر، ومول العرب في 6 أكتوبر، وسان ستيفانو في الإسكندرية.",
    ),
    Entry(
        "tracking",
        "Tracking your order",
        "When your order ships we send an SMS with a tracking link. You can also follow the order from "
        "My Orders in your account.",
    ),
    Entry(
        "password",
        "Account and password",
        "To reset your password, tap Forgot password on the sign-in page and we email you a reset link "
        "valid for 30 minutes.",
    ),
    Entry(
        "student",
        "Student discount",
        "Students get 10% off laptops and tablets with a valid university ID. The discount cannot be "
        "combined with other offers.",
    ),
    Entry(
        "gift_cards",
        "بطاقات الهدايا",
        "تتوفر بطاقات الهدايا بقيم 500 و1000 و2000 جنيه، وهي صالحة لمدة سنة من تاريخ الشراء ولا يمكن "
        "استبدالها نقدا.",
    ),
    Entry(
        "price_match",
        "Price match promise",
        "If you find the same product cheaper at an authorised Egyptian retailer within 7 days of "
        "buying, we refund the difference.",
    ),
    Entry(
        "installation",
        "TV and air conditioner installation",
        "We install TVs and air conditioners at home. Installation is free in Cairo and Giza and is "
        "scheduled within 48 hours of delivery.",
    ),
    Entry(
        "screen_repair",
        "إصلاح الشاشات",
        "نصلح شاشات الهواتف في مركز الصيانة خلال 3 أيام عمل. تبدأ تكلفة تغيير الشاشة من 1200 جنيه حسب "
        "الموديل.",
    ),
    Entry(
        "loyalty",
        "نقاط الولاء",
        "تحصل على نقطة واحدة مقابل كل 10 جنيهات تنفقها. كل 100 نقطة تساوي 10 جنيهات خصم على مشترياتك "
        "القادمة.",
    ),
    Entry(
        "complaints",
        "الشكاوى",
        "لتقديم شكوى اتصل بخدمة العملاء على الرقم 19555 أو أرسل بريدا إلى care@nile-electronics.eg، "
        "ونرد خلال 48 ساعة.",
    ),
    Entry(
        "data_transfer",
        "Data transfer service",
        "Our staff can move your photos, contacts and apps to your new phone in the store. The service "
        "costs 150 EGP and is free with phones above 15,000 EGP.",
    ),
    Entry(
        "preorder",
        "Pre-orders",
        "Pre-orders need a deposit of 20% of the price. The deposit is fully refunded if you cancel "
        "before the release date.",
    ),
    Entry(
        "pickup",
        "Click and collect / الاستلام من الفرع",
        "Order online and pick up from any branch after 4 hours. Bring your ID and the order number.\n\n"
        "اطلب أونلاين واستلم من أي فرع بعد 4 ساعات. أحضر بطاقتك ورقم الطلب.",
    ),
    Entry(
        "trade_in",
        "Trade-in programme",
        "# Trade-in programme\n\n"
        "Bring your old phone to any branch and we value it on the spot. The value is deducted from the "
        "price of your new phone.\n\n"
        "Phones must switch on and must not be locked to an account.",
        kind="html",
    ),
    Entry(
        "business",
        "Corporate orders",
        "# Corporate orders\n\n"
        "Companies ordering more than 20 devices get a dedicated account manager and a 7% discount.\n\n"
        "# Invoices\n\n"
        "We issue tax invoices with the company's tax registration number.",
        kind="docx",
    ),
    Entry(
        "warranty_terms",
        "Extended warranty",
        "Extended warranty\n\n"
        "You can extend the warranty of any laptop by one extra year for 8% of its price. The extension "
        "must be bought within 30 days of purchase.",
        kind="pdf",
    ),
    Entry(
        "delivery_ar_pdf",
        "الشحن السريع",
        "الشحن السريع\n\n"
        "يصل الطلب خلال 6 ساعات داخل القاهرة عند الطلب قبل الساعة 3 عصرا. تكلفة الشحن السريع 120 جنيها.",
        kind="pdf",
    ),
    Entry(
        "privacy",
        "Privacy",
        "We never sell your personal data. Your card details are processed by our payment provider and "
        "are not stored on our servers.",
    ),
    Entry(
        "wholesale_ar",
        "أجهزة مستعملة",
        "لا نبيع أجهزة مستعملة. كل الأجهزة جديدة في علبتها الأصلية مع ضمان الوكيل.",
    ),
    Entry(
        "newsletter",
        "Newsletter",
        "Subscribe to our newsletter at the bottom of the home page to receive weekly offers every Thursday.",
        kind="html",
    ),
]

CLINIC: list[Entry] = [
    Entry(
        "booking",
        "Booking an appointment",
        "Book an appointment through our app, on the website or by calling 16789. Online bookings are "
        "confirmed by SMS within an hour.",
    ),
    Entry(
        "cancel",
        "إلغاء الموعد",
        "يمكن إلغاء الموعد أو تغييره مجانا قبل 24 ساعة على الأقل. الإلغاء بعد ذلك يخصم 50% من رسوم الكشف.",
    ),
    Entry(
        "hours",
        "Clinic hours",
        "The clinic is open from 8 am to 10 pm every day except Friday. The laboratory opens at 7 am.",
    ),
    Entry(
        "ramadan",
        "Ramadan hours",
        "During Ramadan the clinic works from 10 am to 4 pm and again from 8 pm to midnight.",
    ),
    Entry(
        "insurance",
        "التأمين الطبي",
        "نتعامل مع شركات التأمين: أكسا، وبوبا، ومصر للتأمين، وميدنت. يجب إحضار كارت التأمين ساري المفعول "
        "في كل زيارة.",
    ),
    Entry(
        "insurance_claims",
        "Insurance claims",
        "For insurers we do not work with directly, we give you an itemised invoice and a medical report "
        "so you can claim the costs back yourself.",
    ),
    Entry(
        "fasting",
        "صيام التحاليل",
        "تحليل السكر الصائم والدهون يحتاج صياما من 10 إلى 12 ساعة. يمكن شرب الماء فقط أثناء الصيام.",
    ),
    Entry(
        "results",
        "Lab results",
        "Most blood test results are ready within 24 hours and are sent to you on WhatsApp. Culture "
        "tests take 3 to 5 days.",
    ),
    Entry(
        "pediatrics",
        "طب الأطفال",
        "عيادة الأطفال تستقبل الأطفال من عمر يوم حتى 16 سنة. الكشف بدون موعد متاح يوميا من 5 إلى 9 مساء.",
    ),
    Entry(
        "vaccines",
        "Vaccinations / التطعيمات",
        "We give all the vaccines of the national schedule plus flu and chickenpox vaccines. Bring the "
        "child's vaccination card.\n\n"
        "نعطي جميع تطعيمات الجدول القومي بالإضافة إلى تطعيم الإنفلونزا والجديري المائي. أحضر كارت التطعيم.",
    ),
    Entry(
        "dental_cleaning",
        "Dental cleaning",
        "A dental cleaning and polishing session costs 600 EGP and takes about 45 minutes.",
    ),
    Entry(
        "whitening",
        "Teeth whitening",
        "Laser teeth whitening costs 3,500 EGP for one session. Results last one to two years.",
    ),
    Entry(
        "dermatology",
        "الجلدية",
        "عيادة الجلدية تعالج حب الشباب والأكزيما وتساقط الشعر، وتقدم جلسات الليزر لإزالة الشعر.",
    ),
    Entry(
        "parking",
        "Parking",
        "Free parking for patients is available in the basement for up to 3 hours. Show your "
        "appointment SMS at the gate.",
    ),
    Entry(
        "location",
        "العنوان",
        "العيادة في 45 شارع التسعين الشمالي، التجمع الخامس، القاهرة الجديدة، بجوار بنك مصر.",
    ),
    Entry(
        "home_visits",
        "Home visits",
        "A doctor can visit you at home in New Cairo and Heliopolis. A home visit costs 900 EGP and must "
        "be booked 4 hours ahead.",
    ),
    Entry(
        "prescriptions",
        "Prescription refills",
        "Repeat prescriptions for chronic conditions can be renewed online without a visit if you were "
        "seen in the last 3 months.",
    ),
    Entry(
        "reports",
        "التقارير الطبية",
        "نصدر التقارير الطبية باللغتين العربية والإنجليزية خلال يومي عمل. رسوم التقرير 200 جنيه.",
    ),
    Entry(
        "telemedicine",
        "Video consultations",
        "Video consultations with our doctors cost 400 EGP and last 20 minutes. The link is sent by SMS "
        "10 minutes before the call.",
    ),
    Entry(
        "emergency",
        "الطوارئ",
        "لا يوجد قسم طوارئ في العيادة. في الحالات الطارئة اتصل بالإسعاف على 123 أو توجه لأقرب مستشفى.",
    ),
    Entry(
        "payment",
        "Paying at the clinic",
        "You can pay by cash, card or InstaPay at reception. Payment is due before the consultation.",
    ),
    Entry(
        "first_visit",
        "Your first visit",
        "Please arrive 15 minutes early on your first visit and bring your national ID and any previous "
        "test results.",
    ),
    Entry(
        "xray",
        "الأشعة",
        "نوفر أشعة إكس والسونار في نفس المبنى. أشعة الرنين المغناطيسي غير متوفرة ونحولك لمركز شريك.",
    ),
    Entry(
        "physio",
        "العلاج الطبيعي",
        "جلسة العلاج الطبيعي مدتها 45 دقيقة وسعرها 350 جنيها. باقة 10 جلسات بسعر 3000 جنيه.",
    ),
    Entry(
        "nutrition",
        "Nutrition clinic",
        "# Nutrition clinic\n\n"
        "Our dietitian prepares a personal diet plan after a body composition scan. The first visit "
        "costs 500 EGP and follow-ups cost 250 EGP.",
        kind="html",
    ),
    Entry(
        "women",
        "عيادة النساء",
        "# عيادة النساء\n\nجميع أطباء عيادة النساء والتوليد من الطبيبات. متابعة الحمل متاحة بباقة شهرية.",
        kind="html",
    ),
    Entry(
        "accessibility",
        "Accessibility",
        "# Accessibility\n\n"
        "The building has ramps and a lift to every floor. Wheelchairs are available at the entrance free "
        "of charge.",
        kind="docx",
    ),
    Entry(
        "checkup",
        "باقة الفحص الشامل",
        "باقة الفحص الشامل\n\n"
        "تشمل باقة الفحص الشامل تحليل الدم الكامل ووظائف الكبد والكلى ورسم القلب، وسعرها 2500 جنيه.",
        kind="pdf",
    ),
    Entry(
        "sick_leave",
        "Sick leave certificates",
        "Sick leave certificates are issued by the treating doctor on the day of the visit only; they "
        "cannot be issued afterwards.",
        kind="docx",
    ),
    Entry(
        "languages",
        "Doctors' languages / لغات الأطباء",
        "All our doctors speak Arabic and English; some also speak French and German.\n\n"
        "جميع أطبائنا يتحدثون العربية والإنجليزية، وبعضهم يتحدث الفرنسية والألمانية.",
    ),
]

# Page furniture wrapped around the HTML entries: navigation, header, footer, aside, hidden text.
FURNITURE_EN = (
    "<header><a href='/'>Home</a> <a href='/shop'>Shop</a> <a href='/offers'>Offers</a> "
    "<a href='/contact'>Contact us</a> <a href='/login'>Sign in</a></header>"
    "<nav><ul><li>Phones</li><li>Laptops</li><li>TVs</li><li>Accessories</li><li>Support</li></ul></nav>",
    "<aside><h3>Popular questions</h3><p>How do I order? What is your delivery time? "
    "Do you have branches? How can I pay?</p></aside>"
    "<div hidden>Internal note: update prices before the sale.</div>"
    "<div style='display:none'>Tracking pixel text</div>"
    "<span aria-hidden='true'>Menu icon</span>"
    "<footer><p>© 2026 All rights reserved. Terms of use. Privacy policy. Follow us on Facebook "
    "and Instagram. Call us any time.</p></footer>",
)
FURNITURE_AR = (
    "<header><a href='/'>الرئيسية</a> <a href='/services'>خدماتنا</a> <a href='/doctors'>الأطباء</a> "
    "<a href='/contact'>اتصل بنا</a></header>"
    "<nav><ul><li>الحجز</li><li>العيادات</li><li>التحاليل</li><li>الأسعار</li></ul></nav>",
    "<aside><h3>أسئلة شائعة</h3><p>كيف أحجز موعدا؟ ما هي المواعيد؟ هل تقبلون التأمين؟ كم سعر "
    "الكشف؟</p></aside>"
    "<div hidden>ملاحظة داخلية: تحديث الأسعار.</div>"
    "<footer><p>جميع الحقوق محفوظة 2026. سياسة الخصوصية. تابعونا على فيسبوك.</p></footer>",
)


def _q(category: str, rows: list[tuple[str, str | None, tuple[str, ...]]]) -> list[Q]:
    return [Q(text, answer, fact, category) for text, answer, fact in rows]


SHOP_QUESTIONS: list[Q] = [
    *_q(
        "EN",
        [
            ("How many days do I have to return an unopened product?", "returns", ("14 days",)),
            ("When will I get my refund on my card?", "returns", ("5 to 7",)),
            (
                "My new headphones stopped working after a week, can you replace them?",
                "exchange",
                ("30 days",),
            ),
            ("How long does delivery to Alexandria take?", "ship_local", ("3 to 5",)),
            ("How much is delivery for a small order?", "ship_local", ("60 EGP",)),
            ("Do you ship to Kuwait?", "ship_intl", ("Kuwait",)),
            ("Who pays customs on international orders?", "ship_intl", ("customs duties",)),
            ("Can I pay with Apple Pay?", "payment", ("Apple Pay",)),
            ("Is cash on delivery possible?", "payment", ("10,000",)),
            ("How long is the warranty on a laptop?", "warranty_devices", ("2-year",)),
            ("Does the warranty cover a cracked screen?", "warranty_devices", ("not covered",)),
            ("What is the warranty on a charger?", "warranty_accessories", ("6-month",)),
            ("What time do you open on Friday?", "hours", ("2 pm",)),
            ("Where is your branch in Alexandria?", "branches", ("San Stefano",)),
            ("How do I track my order?", "tracking", ("tracking link", "My Orders")),
            ("I forgot my password", "password", ("Forgot password",)),
            ("Do students get a discount?", "student", ("10%",)),
            ("Will you match a lower price from another shop?", "price_match", ("7 days",)),
            ("Is TV installation free?", "installation", ("free in Cairo",)),
            ("How much does it cost to move my data to a new phone?", "data_transfer", ("150 EGP",)),
            ("How much deposit do I pay for a pre-order?", "preorder", ("20%",)),
            ("Can I collect my online order from a branch?", "pickup", ("4 hours",)),
            ("Can I trade in my old phone?", "trade_in", ("value it on the spot", "deducted")),
            ("Do you give discounts to companies buying many laptops?", "business", ("7%",)),
            ("Can I get a tax invoice for my company?", "business", ("tax invoices",)),
            ("Can I extend my laptop warranty?", "warranty_terms", ("8%",)),
            ("Do you store my card details?", "privacy", ("not stored",)),
            ("When do you send the weekly offers email?", "newsletter", ("Thursday",)),
        ],
    ),
    *_q(
        "AR",
        [
            ("هل يمكن تقسيط لابتوب بسعر 5000 جنيه؟", "installments", ("12 شهرا", "6 أو 12")),
            ("ما هي البنوك المتاحة للتقسيط؟", "installments", ("البنك الأهلي",)),
            ("ما مواعيد الفروع في رمضان؟", "ramadan", ("1 ظهرا",)),
            ("ما قيم بطاقات الهدايا المتوفرة؟", "gift_cards", ("500",)),
            ("هل يمكن استبدال بطاقة الهدايا بالنقود؟", "gift_cards", ("نقدا",)),
            ("كم تكلفة تغيير شاشة الهاتف؟", "screen_repair", ("1200",)),
            ("كم يوما يستغرق إصلاح الشاشة؟", "screen_repair", ("3 أيام",)),
            ("كيف أحصل على نقاط الولاء؟", "loyalty", ("10 جنيهات",)),
            ("ما رقم خدمة العملاء لتقديم شكوى؟", "complaints", ("19555",)),
            ("أين تقع فروعكم؟", "branches", ("سيتي ستارز",)),
            ("هل تبيعون أجهزة مستعملة؟", "wholesale_ar", ("لا نبيع",)),
            ("كم تكلفة الشحن السريع؟", "delivery_ar_pdf", ("120",)),
            ("خلال كم ساعة يصل الشحن السريع؟", "delivery_ar_pdf", ("6 ساعات",)),
            ("ماذا أحضر عند الاستلام من الفرع؟", "pickup", ("بطاقتك", "ID")),
        ],
    ),
    *_q(
        "dialect",
        [
            ("عايز اقسط الموبايل على سنة ينفع؟", "installments", ("12 شهرا", "6 أو 12")),
            ("الفروع بتفتح امتى في رمضان؟", "ramadan", ("1 ظهرا",)),
            ("تغيير الشاشة بكام؟", "screen_repair", ("1200",)),
            ("عندكم موبايلات مستعملة؟", "wholesale_ar", ("لا نبيع",)),
            ("الشحن السريع بياخد قد ايه؟", "delivery_ar_pdf", ("6 ساعات",)),
            ("ابغى اشتكي على طلب، اكلم مين؟", "complaints", ("19555",)),
        ],
    ),
    *_q(
        "EN→AR",
        [
            ("Can I pay for a laptop in monthly installments?", "installments", ("6 أو 12", "12 شهرا")),
            ("What are your opening hours during Ramadan?", "ramadan", ("1 ظهرا",)),
            ("How much does a phone screen replacement cost?", "screen_repair", ("1200",)),
            ("What values do gift cards come in?", "gift_cards", ("500",)),
            ("How do loyalty points work?", "loyalty", ("100 نقطة", "10 جنيهات")),
            ("What is the customer service number for complaints?", "complaints", ("19555",)),
            ("Do you sell used phones?", "wholesale_ar", ("لا نبيع",)),
            ("How fast is express delivery?", "delivery_ar_pdf", ("6 ساعات",)),
        ],
    ),
    *_q(
        "AR→EN",
        [
            ("كم يوما لدي لإرجاع منتج لم يفتح؟", "returns", ("14 days",)),
            ("هل تشحنون إلى الكويت؟", "ship_intl", ("Kuwait",)),
            ("كم مدة ضمان اللابتوب؟", "warranty_devices", ("2-year",)),
            ("هل يوجد خصم للطلاب؟", "student", ("10%",)),
            ("هل تركيب التلفزيون مجاني؟", "installation", ("free in Cairo",)),
            ("كم قيمة العربون للحجز المسبق؟", "preorder", ("20%",)),
            ("متى تفتحون يوم الجمعة؟", "hours", ("2 pm",)),
            ("هل يمكنني تمديد ضمان اللابتوب؟", "warranty_terms", ("8%",)),
        ],
    ),
    *_q(
        "typos",
        [
            ("how many dayz to retrun an unopend product", "returns", ("14 days",)),
            ("waranty on laptp?", "warranty_devices", ("2-year",)),
            ("do u ship to kuwiat", "ship_intl", ("Kuwait",)),
            ("studnet discount??", "student", ("10%",)),
            ("how much is the deposite for preorder", "preorder", ("20%",)),
            ("كم تكلفه تغير الشاشه", "screen_repair", ("1200",)),
        ],
    ),
    *_q(
        "arabizi",
        [
            ("el ta2seet 3la kam shahr?", "installments", ("12 شهرا", "6 أو 12")),
            ("ta8yeer el shasha b kam?", "screen_repair", ("1200",)),
        ],
    ),
    Q("How long does delivery to Cairo take?", "ship_local", ("2 working days",), "follow-up"),
    Q(
        "And to Saudi Arabia?",
        "ship_intl",
        ("7 to 10",),
        "follow-up",
        "How long does delivery to Cairo take?",
    ),
    Q("What is the warranty on laptops?", "warranty_devices", ("2-year",), "follow-up"),
    Q(
        "and for headphones?",
        "warranty_accessories",
        ("6-month",),
        "follow-up",
        "What is the warranty on laptops?",
    ),
    Q(
        "What about cables?",
        "warranty_accessories",
        ("6-month",),
        "follow-up",
        "How long is the warranty on phones?",
    ),
    Q("كم سعر الشحن السريع؟", "delivery_ar_pdf", ("120",), "follow-up"),
    Q("وخلال كم ساعة يصل؟", "delivery_ar_pdf", ("6 ساعات",), "follow-up", "كم سعر الشحن السريع؟"),
    *_q(
        "unanswerable",
        [
            ("Do you sell gaming consoles like the PlayStation 5?", None, ()),
            ("Can I rent a laptop for a week?", None, ()),
            ("Do you repair washing machines?", None, ()),
            ("What is the CEO's name?", None, ()),
            ("Are you hiring sales staff?", None, ()),
            ("Do you accept Bitcoin?", None, ()),
            ("Is there a branch in Aswan?", None, ()),
            ("Can I book a table for dinner?", None, ()),
            ("هل تبيعون الأثاث المنزلي؟", None, ()),
            ("هل يوجد لديكم وظائف شاغرة؟", None, ()),
            ("هل تقدمون دورات تدريبية في البرمجة؟", None, ()),
            ("ما هو سعر الذهب اليوم؟", None, ()),
            ("What is the weather in Cairo tomorrow?", None, ()),
            ("Do you sell car tyres?", None, ()),
        ],
    ),
]

CLINIC_QUESTIONS: list[Q] = [
    *_q(
        "EN",
        [
            ("How can I book an appointment?", "booking", ("16789",)),
            ("What are the clinic's opening hours?", "hours", ("8 am to 10 pm",)),
            ("What time does the lab open?", "hours", ("7 am",)),
            ("What are the hours during Ramadan?", "ramadan", ("10 am to 4 pm",)),
            (
                "My insurer is not on your list, how do I get reimbursed?",
                "insurance_claims",
                ("itemised invoice",),
            ),
            ("When will my blood test results be ready?", "results", ("24 hours",)),
            ("How long does a culture test take?", "results", ("3 to 5 days",)),
            ("Do you give the flu vaccine?", "vaccines", ("flu",)),
            ("How much is a dental cleaning?", "dental_cleaning", ("600 EGP",)),
            ("How much does teeth whitening cost?", "whitening", ("3,500",)),
            ("Is parking free?", "parking", ("3 hours",)),
            ("Can a doctor come to my house?", "home_visits", ("900 EGP",)),
            ("Can I renew my prescription online?", "prescriptions", ("3 months",)),
            ("How much is a video consultation?", "telemedicine", ("400 EGP",)),
            ("How can I pay at the clinic?", "payment", ("InstaPay",)),
            ("What should I bring to my first visit?", "first_visit", ("national ID",)),
            ("How much does the dietitian charge?", "nutrition", ("500 EGP",)),
            ("Is the building wheelchair accessible?", "accessibility", ("ramps", "lift")),
            ("Can I get a sick leave certificate for last week?", "sick_leave", ("cannot be issued",)),
            ("Do the doctors speak French?", "languages", ("French",)),
        ],
    ),
    *_q(
        "AR",
        [
            ("هل يمكن إلغاء الموعد مجانا؟", "cancel", ("24 ساعة",)),
            ("ما شركات التأمين التي تتعاملون معها؟", "insurance", ("بوبا", "أكسا")),
            ("كم ساعة صيام قبل تحليل السكر؟", "fasting", ("10 إلى 12",)),
            ("هل يمكن شرب الماء أثناء الصيام للتحليل؟", "fasting", ("الماء",)),
            ("حتى أي عمر تستقبل عيادة الأطفال؟", "pediatrics", ("16 سنة",)),
            ("هل تعالجون تساقط الشعر؟", "dermatology", ("تساقط الشعر",)),
            ("ما عنوان العيادة؟", "location", ("التسعين",)),
            ("كم رسوم التقرير الطبي؟", "reports", ("200",)),
            ("هل لديكم قسم طوارئ؟", "emergency", ("لا يوجد",)),
            ("هل يوجد رنين مغناطيسي؟", "xray", ("غير متوفرة",)),
            ("كم سعر جلسة العلاج الطبيعي؟", "physio", ("350",)),
            ("هل الطبيبات في عيادة النساء سيدات؟", "women", ("الطبيبات",)),
            ("كم سعر باقة الفحص الشامل؟", "checkup", ("2500",)),
            ("ماذا تشمل باقة الفحص الشامل؟", "checkup", ("وظائف الكبد",)),
            ("هل تعطون تطعيم الجديري المائي؟", "vaccines", ("الجديري",)),
        ],
    ),
    *_q(
        "dialect",
        [
            ("لو لغيت الميعاد قبلها بيوم هدفع حاجة؟", "cancel", ("24 ساعة",)),
            ("العيادة فين بالظبط؟", "location", ("التسعين",)),
            ("جلسة العلاج الطبيعي بكام؟", "physio", ("350",)),
            ("عندكم طوارئ؟", "emergency", ("لا يوجد",)),
            ("ابني عنده 10 سنين ينفع اجيبه عيادة الاطفال؟", "pediatrics", ("16 سنة",)),
            ("التقرير الطبي بياخد كام يوم؟", "reports", ("يومي عمل",)),
        ],
    ),
    *_q(
        "EN→AR",
        [
            ("Can I cancel my appointment for free?", "cancel", ("24 ساعة",)),
            ("Which insurance companies do you accept?", "insurance", ("بوبا", "أكسا")),
            ("How many hours should I fast before a blood sugar test?", "fasting", ("10 إلى 12",)),
            ("Up to what age does the children's clinic see patients?", "pediatrics", ("16 سنة",)),
            ("What is the clinic's address?", "location", ("التسعين",)),
            ("How much is a medical report?", "reports", ("200",)),
            ("Do you have an emergency department?", "emergency", ("لا يوجد",)),
            ("How much is a physiotherapy session?", "physio", ("350",)),
            ("How much is the full check-up package?", "checkup", ("2500",)),
            ("Do you do MRI scans?", "xray", ("غير متوفرة",)),
        ],
    ),
    *_q(
        "AR→EN",
        [
            ("كيف أحجز موعدا؟", "booking", ("16789",)),
            ("متى تكون نتائج تحليل الدم جاهزة؟", "results", ("24 hours",)),
            ("كم سعر تنظيف الأسنان؟", "dental_cleaning", ("600 EGP",)),
            ("كم سعر تبييض الأسنان؟", "whitening", ("3,500",)),
            ("هل الموقف مجاني؟", "parking", ("3 hours",)),
            ("كم سعر الاستشارة بالفيديو؟", "telemedicine", ("400 EGP",)),
            ("هل يمكن أن يزورني طبيب في البيت؟", "home_visits", ("900 EGP",)),
            ("ما مواعيد العيادة في رمضان؟", "ramadan", ("10 am to 4 pm",)),
        ],
    ),
    *_q(
        "typos",
        [
            ("how much is teeth whitenning", "whitening", ("3,500",)),
            ("wat time does the labb open", "hours", ("7 am",)),
            ("is parkin free", "parking", ("3 hours",)),
            ("vidoe consultation price", "telemedicine", ("400 EGP",)),
            ("كم سعر جلسه العلاج الطبيعى", "physio", ("350",)),
            ("عنوان العياده", "location", ("التسعين",)),
        ],
    ),
    *_q(
        "arabizi",
        [
            ("el 3eyada fein?", "location", ("التسعين",)),
            ("fi tawari2?", "emergency", ("لا يوجد",)),
        ],
    ),
    Q("How much is a dental cleaning?", "dental_cleaning", ("600 EGP",), "follow-up"),
    Q("and whitening?", "whitening", ("3,500",), "follow-up", "How much is a dental cleaning?"),
    Q("How much is a video consultation?", "telemedicine", ("400 EGP",), "follow-up"),
    Q(
        "What about a home visit?",
        "home_visits",
        ("900 EGP",),
        "follow-up",
        "How much is a video consultation?",
    ),
    Q("كم سعر جلسة العلاج الطبيعي؟", "physio", ("350",), "follow-up"),
    Q("وباقة العشر جلسات؟", "physio", ("3000",), "follow-up", "كم سعر جلسة العلاج الطبيعي؟"),
    Q("What are the clinic hours?", "hours", ("8 am",), "follow-up"),
    Q("and in Ramadan?", "ramadan", ("10 am to 4 pm",), "follow-up", "What are the clinic hours?"),
    *_q(
        "unanswerable",
        [
            ("Do you perform heart surgery?", None, ()),
            ("Can I donate blood at the clinic?", None, ()),
            ("Do you sell hearing aids?", None, ()),
            ("Is there a pharmacy delivery service to Aswan?", None, ()),
            ("Do you offer hair transplant?", None, ()),
            ("What is the name of the clinic's owner?", None, ()),
            ("Do you treat pets?", None, ()),
            ("Can I bring my dog to the clinic?", None, ()),
            ("هل تجرون عمليات تجميل الأنف؟", None, ()),
            ("هل يوجد لديكم بنك دم؟", None, ()),
            ("هل تقدمون خدمة الغسيل الكلوي؟", None, ()),
            ("ما هي مباريات كرة القدم اليوم؟", None, ()),
            ("هل تبيعون النظارات الطبية؟", None, ()),
            ("Do you have a swimming pool for hydrotherapy?", None, ()),
        ],
    ),
]
