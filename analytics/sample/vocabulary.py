"""Word lists behind the sample company: places, names, products, touchpoints and comments.

Rules are data: the generator draws from these tables, and `data/sample/README.md` quotes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """A country the company sells to: its region, calling code, cities and share of contacts."""

    name: str
    region: str
    calling_code: str
    cities: tuple[str, ...]
    weight: float


COUNTRIES: tuple[Country, ...] = (
    Country("United Kingdom", "EMEA", "44", ("London", "Manchester", "Birmingham", "Leeds"), 0.12),
    Country("Germany", "EMEA", "49", ("Berlin", "Munich", "Hamburg", "Cologne"), 0.11),
    Country("France", "EMEA", "33", ("Paris", "Lyon", "Marseille"), 0.08),
    Country("Spain", "EMEA", "34", ("Madrid", "Barcelona", "Valencia"), 0.05),
    Country("Netherlands", "EMEA", "31", ("Amsterdam", "Rotterdam", "Utrecht"), 0.05),
    Country("Sweden", "EMEA", "46", ("Stockholm", "Gothenburg"), 0.04),
    Country("United States", "Americas", "1", ("New York", "Chicago", "Austin", "Seattle"), 0.24),
    Country("Canada", "Americas", "1", ("Toronto", "Vancouver", "Montreal"), 0.06),
    Country("Brazil", "Americas", "55", ("São Paulo", "Rio de Janeiro"), 0.05),
    Country("Mexico", "Americas", "52", ("Mexico City", "Guadalajara"), 0.03),
    Country("Australia", "APAC", "61", ("Sydney", "Melbourne", "Brisbane"), 0.07),
    Country("Japan", "APAC", "81", ("Tokyo", "Osaka"), 0.04),
    Country("Singapore", "APAC", "65", ("Singapore",), 0.03),
    Country("India", "APAC", "91", ("Bengaluru", "Mumbai", "Delhi"), 0.03),
)

REGIONS: tuple[str, ...] = ("EMEA", "Americas", "APAC")

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "EMEA": (
        "Emma", "Liam", "Sophie", "Lukas", "Léa", "Hugo", "Lucía", "Mateo", "Anna", "Noah",
        "Olivia", "Jan", "Sara", "Elif", "Omar", "Freya", "Inès", "Tomás", "Maja", "Felix",
    ),
    "Americas": (
        "James", "Mary", "Michael", "Jennifer", "Carlos", "Ana", "João", "Camila", "Ethan",
        "Ava", "Mason", "Isabella", "Lucas", "Gabriela", "Daniel", "Chloe", "Diego", "Emily",
    ),
    "APAC": (
        "Hiroshi", "Yuki", "Aarav", "Priya", "Wei", "Mei", "Jack", "Charlotte", "Ananya",
        "Rohan", "Sakura", "Kenji", "Li", "Grace", "Arjun", "Ruby", "Haruto", "Isla",
    ),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "EMEA": (
        "Smith", "Müller", "Martin", "García", "de Vries", "Johansson", "Rossi", "Schmidt",
        "Dubois", "López", "Jansen", "Nielsen", "Brown", "Wilson", "Fernández", "Bernard",
        "Weber", "Kowalski", "Lindqvist", "Moreau",
    ),
    "Americas": (
        "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Rodríguez", "Martínez",
        "Silva", "Santos", "Hernández", "Taylor", "Anderson", "Thomas", "Moore", "Oliveira",
        "Clark", "Lewis",
    ),
    "APAC": (
        "Sato", "Suzuki", "Takahashi", "Tanaka", "Sharma", "Patel", "Kumar", "Tan", "Lim",
        "Wong", "Chen", "Nguyen", "Smith", "Jones", "Singh", "Lee", "Watanabe", "Iyer",
    ),
}  # fmt: skip

EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")

PLANS: tuple[str, ...] = ("Basic", "Plus", "Premium")

GENDERS: tuple[str, ...] = ("Female", "Male", "Non-binary", "")
GENDER_WEIGHTS: tuple[float, ...] = (0.49, 0.46, 0.02, 0.03)

CATEGORIES: tuple[str, ...] = ("Apparel", "Footwear", "Home", "Electronics", "Beauty", "Outdoor")

PRODUCTS: dict[str, tuple[str, ...]] = {
    "Apparel": ("Merino sweater", "Linen shirt", "Rain jacket", "Chino trousers", "Wool scarf"),
    "Footwear": ("Trail runners", "Leather boots", "Canvas sneakers", "House slippers"),
    "Home": ("Ceramic mug set", "Linen bedding", "Desk lamp", "Throw blanket", "Scented candle"),
    "Electronics": ("Wireless earbuds", "Smart speaker", "E-reader", "Fitness watch", "Power bank"),
    "Beauty": ("Face serum", "Shampoo bar", "Hand cream", "Lip balm set"),
    "Outdoor": ("Camping tent", "Hiking backpack", "Insulated bottle", "Sleeping bag"),
}

SALES_CHANNELS: tuple[str, ...] = ("web", "app", "store")
SALES_CHANNEL_WEIGHTS: tuple[float, ...] = (0.58, 0.30, 0.12)

# Order statuses as the shop writes them (all listed in contract.STATUS_SYNONYMS).
SHOP_STATUS: dict[str, str] = {
    "completed": "delivered",
    "returned": "refunded",
    "cancelled": "canceled",
}
SHOP_STATUS_IN_TRANSIT = "shipped"

TICKET_CATEGORIES: tuple[str, ...] = ("Billing", "Product", "Delivery", "Returns", "Account")
TICKET_CATEGORY_WEIGHTS: tuple[float, ...] = (0.30, 0.35, 0.15, 0.10, 0.10)
TICKET_CHANNELS: tuple[str, ...] = ("Email", "Web form", "Chat", "Phone")
TICKET_CHANNEL_WEIGHTS: tuple[float, ...] = (0.45, 0.20, 0.20, 0.15)
PRIORITIES: tuple[str, ...] = ("Low", "Normal", "High", "Urgent")

STAGES: tuple[str, ...] = (
    "awareness", "consideration", "purchase", "onboarding", "service", "loyalty",
)  # fmt: skip

# Touchpoint -> stage: every touchpoint belongs to exactly one stage.
TOUCHPOINT_STAGE: dict[str, str] = {
    "Social ad": "awareness",
    "Search ad": "awareness",
    "Search result": "awareness",
    "Friend referral": "awareness",
    "Newsletter": "awareness",
    "Homepage visit": "awareness",
    "Product page": "consideration",
    "Reviews page": "consideration",
    "Size guide": "consideration",
    "Add to cart": "consideration",
    "Checkout": "purchase",
    "Welcome email": "onboarding",
    "Account setup": "onboarding",
    "Order tracking": "service",
    "Support contact": "service",
    "Return request": "service",
    "Product review": "loyalty",
    "Loyalty signup": "loyalty",
    "Referral sent": "loyalty",
}

CONSIDERATION_TOUCHPOINTS: tuple[str, ...] = (
    "Product page", "Reviews page", "Size guide", "Add to cart",
)  # fmt: skip

SURVEY_TOUCHPOINTS: tuple[str, ...] = ("Purchase", "Support", "Relationship", "Website")

# Comments about the planted theme. Each matches DELIVERY_THEME_PATTERN, and no detractor or
# passive comment outside the delivery theme does (a test checks both).
LATE_DELIVERY_COMMENTS: tuple[str, ...] = (
    "Package arrived late.",
    "Delivery took two weeks.",
    "My order arrived a week late.",
    "The parcel was delayed and nobody told me.",
    "Still waiting for my delivery.",
    "Courier missed the delivery window twice.",
    "Late delivery again, very disappointing.",
    "Order was delayed for ten days.",
    "Tracking said out for delivery for days.",
    "Shipping took far too long.",
)

LATE_DELIVERY_PASSIVE_COMMENTS: tuple[str, ...] = (
    "Good product but the delivery was late.",
    "Nice items, shipping was slow this time.",
    "Fine in the end, but the parcel was delayed.",
)

DETRACTOR_COMMENTS: dict[str, tuple[str, ...]] = {
    "price": (
        "Too expensive for what you get.",
        "Prices went up again.",
        "Cheaper elsewhere.",
        "Not worth the money.",
    ),
    "quality": (
        "The product broke after a week.",
        "Poor quality materials.",
        "Item did not match the description.",
        "Stitching came apart after one wash.",
    ),
    "support": (
        "Customer service never answered my email.",
        "Support was rude and unhelpful.",
        "Waited an hour on the phone.",
    ),
    "website": (
        "The checkout kept failing.",
        "Website is slow and confusing.",
        "Could not apply my discount code.",
    ),
}
# Share of each theme among detractor comments outside the delivery incident.
DETRACTOR_THEME_WEIGHTS: dict[str, float] = {
    "delivery": 0.12,
    "price": 0.28,
    "quality": 0.26,
    "support": 0.18,
    "website": 0.16,
}

PASSIVE_COMMENTS: tuple[str, ...] = (
    "Good products but a bit pricey.",
    "Okay overall, nothing special.",
    "Decent quality, the website could be easier.",
    "Fine, but support took a while to answer.",
    "Mostly happy, sizes run small.",
)

PROMOTER_COMMENTS: tuple[str, ...] = (
    "Great quality, will buy again.",
    "Fast delivery and lovely packaging.",
    "Friendly and helpful support team.",
    "Love the products, great value.",
    "Easy to order, everything arrived on time.",
    "Best shop I know, recommended it to friends.",
)

DETRACTOR_SUFFIXES: tuple[str, ...] = (
    "",
    "",
    "Very disappointed.",
    "Not happy.",
    "Please fix this.",
)
PROMOTER_SUFFIXES: tuple[str, ...] = ("", "", "Thank you!", "Keep it up.")

DELIVERY_THEME_PATTERN = re.compile(
    r"\b(late|delay\w*|deliver\w*|parcel|package|courier|shipping|tracking)\b", re.IGNORECASE
)
